"""Customer outcomes: what customers did (joined, left, grew, shrank) beside what
they said, so a stage's complaints can be weighed in customers and money."""
