"""A user's own data key (wrapped by the keyring): it seals their TOTP secret and a
set-password code waiting to be e-mailed to them, with associated data naming the
table, column and row."""

from __future__ import annotations

from trygg import crypto, keys
from trygg.accounts.models import User

keys.register_wrapped_key_column(User.wrapped_key)


def user_key(user: User) -> crypto.DataKey:
    """The user's data key, made (and stored wrapped) on first use."""
    ring = keys.keyring()
    if user.wrapped_key is None:
        data_key, wrapped = ring.new_data_key()
        user.wrapped_key = wrapped
        return data_key
    return ring.unwrap(user.wrapped_key)
