"""Text that looks like something it is not: invisible control and format characters in names
and free text, and usernames that can pass for someone else's.

A right-to-left override (U+202E) or a zero-width character makes text read differently from
what it holds: a name that sorts or searches as another, a note whose end shows first. Nobody
types them by accident on a phone or keyboard, so every name and free-text field refuses them,
with a message next to the field. Usernames a person chooses for themselves are plain ASCII and
must not be confusable with an existing one ("rn" for "m", "0" for "o", "1" or "I" for "l").
"""

import re
import unicodedata

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Unicode categories nobody types into a name or a note: controls (but tab and line breaks),
# format characters (bidi overrides and isolates, zero-width joiners, the BOM...), private use,
# surrogates, unassigned code points, and the line and paragraph separators.
HIDDEN_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}
ALLOWED_CONTROLS = {"\t", "\n", "\r"}


def hidden_characters(value):
    """The characters of `value` that would be invisible or reorder the text, in order."""
    return [
        char
        for char in str(value)
        if char not in ALLOWED_CONTROLS and unicodedata.category(char) in HIDDEN_CATEGORIES
    ]


def refuse_hidden_characters(value):
    """A validator for names and free text."""
    found = hidden_characters(value)
    if found:
        codes = ", ".join(dict.fromkeys(f"U+{ord(char):04X}" for char in found))
        raise ValidationError(
            _(
                "Remove the invisible control character (%(codes)s): it can make the text read "
                "differently from what it holds. Retype the text if you pasted it."
            )
            % {"codes": codes},
            code="hidden_characters",
        )


class PlainTextMixin:
    """Every text field of the form (fields added in __init__ included) refuses hidden
    characters, each with its message next to the field. First among a form's bases."""

    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            field = self.fields.get(name)
            if (
                isinstance(value, str)
                and isinstance(field, forms.CharField)
                and not isinstance(field.widget, forms.PasswordInput)
            ):
                try:
                    refuse_hidden_characters(value)
                except ValidationError as error:
                    self.add_error(name, error)
        return cleaned


# Look-alikes folded together when usernames are compared: case, and the ASCII characters that
# read as others in common fonts. Separators are dropped ("j.smith" passes for "jsmith").
_LOOK_ALIKES = [("rn", "m"), ("vv", "w"), ("cl", "d"), ("0", "o"), ("1", "l"), ("i", "l"),
                ("|", "l"), ("5", "s"), ("8", "b")]  # fmt: skip
_SEPARATORS = re.compile(r"[._\-+@]")


def username_skeleton(username):
    skeleton = _SEPARATORS.sub("", unicodedata.normalize("NFKC", username).casefold())
    for look_alike, reads_as in _LOOK_ALIKES:
        skeleton = skeleton.replace(look_alike, reads_as)
    return skeleton


def confusable_username(username):
    """An existing username this one could pass for (the same one included), or None. One
    pass over the usernames: they are few, and new ones are chosen rarely."""
    skeleton = username_skeleton(username)
    usernames = get_user_model().objects.values_list("username", flat=True)
    for existing in usernames.iterator(chunk_size=2000):
        if username_skeleton(existing) == skeleton:
            return existing
    return None
