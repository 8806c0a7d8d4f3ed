"""The way in: readers of extract formats, header mapping, known exports of marketing tools,
the import front-end, the checks and the one write transaction, and the templates."""
