"""Landing and row rules: from a program's export folder to typed rows or quarantine."""
