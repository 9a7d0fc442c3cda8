"""EDI: ANSI X12 004010 interchanges read (`x12`), and the transaction sets Leanstock trades
mapped to and from its own records (`sets`)."""
