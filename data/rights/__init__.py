"""What a person may ask of us: erasure (and its verification) and the policy a transparency
report states."""
