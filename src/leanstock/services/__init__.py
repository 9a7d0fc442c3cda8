"""Use cases, one function per verb: open a unit of work, apply the rules, commit."""
