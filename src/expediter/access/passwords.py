"""Passwords, kept only as argon2id hashes (argon2-cffi).

The cost is OWASP's first recommended setting for argon2id (19 MiB of memory, 2 passes, one
lane): about 50 ms a check on one core, so a sign-in costs a person nothing and a stolen hash
list costs a guesser a great deal. A hash made with other settings still verifies, and is
re-hashed with these at the next sign-in (:func:`needs_rehash`).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from expediter.errors import RejectedInput

MIN_LENGTH = 10
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_UNUSABLE = _HASHER.hash("no one has this password; it keeps failed sign-ins as slow as others")


def check_strength(password: str) -> None:
    """Refuse a password too short to resist guessing (length is what counts, not symbols)."""
    if len(password) < MIN_LENGTH:
        raise RejectedInput(
            f"the password has {len(password)} characters; it needs at least {MIN_LENGTH}",
            where="password",
            fix="choose a longer password: a few unrelated words make a good one",
        )


def hash_password(password: str) -> str:
    check_strength(password)
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches. With no stored hash (an unknown name) a hash is still checked,
    so a wrong name takes as long as a wrong password."""
    try:
        return _HASHER.verify(stored_hash or _UNUSABLE, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)
