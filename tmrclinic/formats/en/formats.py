"""How dates print wherever a page does not name its own format: the admin's lists and
read-only fields, and the `date` filter without an argument. The same convention as the app's
pages ("13 Mar 2025", "13 Mar 2025, 14:05"), so that clinic staff read one form of date
everywhere; the typed forms (date inputs, exports) keep ISO 8601."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j M"
