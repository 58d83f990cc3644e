// The bare Swift process the cold-start benchmark compares `rulebook` with: built by the
// same command, with the same flags, so the ratio measures Rulebook's own start-up work.
print("hello")
