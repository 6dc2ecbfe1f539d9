"""Figures as the clinic's pages print them, in the reader's language: rounded as before,
then written with the language's decimal mark ("6,3" in Spanish) by Django's number_format.
(number_format cuts digits rather than rounding, so each figure is rounded first.)"""

from decimal import Decimal

from django.utils.formats import number_format


def one_decimal(value):
    """A mean, rounded to one decimal: "4.5" ("4,5" in Spanish)."""
    return number_format(Decimal(f"{float(value):.1f}"), decimal_pos=1)


def signed(value):
    """A change in points, rounded to one decimal, with a real minus sign: "−2.4", "+0.5",
    "0.0" ("−2,4" in Spanish)."""
    text = f"{value:+.1f}"
    if text in ("+0.0", "-0.0"):
        return number_format(Decimal("0.0"), decimal_pos=1)
    sign = "\u2212" if text.startswith("-") else "+"
    return sign + number_format(Decimal(text[1:]), decimal_pos=1)


def whole_percent(value):
    """A share as a whole percentage, without the sign: "67" for 66.7."""
    return number_format(round(value), decimal_pos=0)
