"""Key rotation: re-encrypt every encrypted column under the newest key, losing nothing.

The first key of FIELD_ENCRYPTION_KEY encrypts; every listed key decrypts. To rotate,
put the new key first and keep the old one after it, run `rotate_field_key`, then drop
the old key. A row that no listed key can decrypt stops the rotation with an error
instead of being rewritten, so an incomplete key list can never destroy data.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from cryptography.fernet import InvalidToken, MultiFernet
from django.apps import apps
from django.db import connection, transaction
from encrypted_model_fields.fields import EncryptedMixin, get_crypter

from casework import blind_index
from casework.models import Person


class RotationError(Exception):
    pass


@dataclass
class EncryptedColumn:
    table: str
    pk: str
    column: str
    label: str


def encrypted_columns() -> list[EncryptedColumn]:
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedMixin):
                found.append(
                    EncryptedColumn(
                        table=model._meta.db_table,
                        pk=model._meta.pk.column,
                        column=field.column,
                        label=f"{model._meta.label}.{field.name}",
                    )
                )
    return found


def _batches(column: EncryptedColumn, size: int) -> Iterator[list[tuple[int, str]]]:
    quote = connection.ops.quote_name
    last = None
    while True:
        where = f"WHERE {quote(column.pk)} > %s" if last is not None else ""
        sql = (
            f"SELECT {quote(column.pk)}, {quote(column.column)} FROM {quote(column.table)} "  # noqa: S608  (identifiers from model metadata)
            f"{where} ORDER BY {quote(column.pk)} LIMIT {int(size)}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [last] if last is not None else [])
            rows = cursor.fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def verify_readable(crypter: MultiFernet, *, batch_size: int = 2000) -> None:
    """Check that every stored value decrypts with a configured key, or raise RotationError."""
    for column in encrypted_columns():
        for rows in _batches(column, batch_size):
            for pk, token in rows:
                if token is None:
                    continue
                try:
                    crypter.decrypt(token.encode())
                except InvalidToken as unreadable:
                    raise RotationError(
                        f"{column.label} row {pk} cannot be decrypted with any configured key; "
                        "nothing was changed. Add the key it was written with."
                    ) from unreadable


def rotate_field_key(*, batch_size: int = 2000, progress=None) -> dict[str, int]:
    """Re-encrypt every value under the first configured key; return rows per column.

    A first pass checks that everything is readable, so a missing key changes nothing.
    """
    crypter: MultiFernet = get_crypter()
    verify_readable(crypter, batch_size=batch_size)
    quote = connection.ops.quote_name
    counts: dict[str, int] = {}
    for column in encrypted_columns():
        rewritten = 0
        for rows in _batches(column, batch_size):
            updates = []
            for pk, token in rows:
                if token is None:
                    continue
                updates.append((crypter.rotate(token.encode()).decode(), pk))
            sql = (
                f"UPDATE {quote(column.table)} SET {quote(column.column)} = %s "  # noqa: S608
                f"WHERE {quote(column.pk)} = %s"
            )
            # One transaction per batch: an interruption leaves rows readable under either key.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, updates)
            rewritten += len(updates)
            if progress:
                progress(column.label, rewritten)
        counts[column.label] = rewritten
    return counts


def rebuild_blind_indexes(*, batch_size: int = 2000) -> int:
    """Recompute every person's blind indexes under the current BLIND_INDEX_KEY."""
    done = 0
    last = 0
    while True:
        people = list(Person.objects.filter(pk__gt=last).order_by("pk")[:batch_size])
        if not people:
            return done
        for person in people:
            person.name_index = blind_index.name_index(person.given_names, person.family_names)
            person.family_name_index = blind_index.family_name_index(person.family_names)
            person.date_of_birth_index = blind_index.date_of_birth_index(person.date_of_birth)
        with transaction.atomic():
            Person.objects.bulk_update(
                people, ["name_index", "family_name_index", "date_of_birth_index"]
            )
        done += len(people)
        last = people[-1].pk
