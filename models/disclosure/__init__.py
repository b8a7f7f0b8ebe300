"""Disclosure control of the aggregate tier: the attacker's audit and the suppression pattern.

models.stats.suppression finds a first pattern by linear algebra; this package checks it the
way an attacker would (whole, non-negative counts; a printed row has a member; successes
between 0 and the denominator; every additive relation) and adds the fewest people needed until
no suppressed cell is pinned to within one person or shown all-yes / all-no. docs/disclosure.md
states the rule and the argument.
"""
