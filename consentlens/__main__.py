from consentlens.cli import main

raise SystemExit(main())
