"""English dates for a European audience: day before month and a 24-hour clock, never the US "11/02/2026".

Django's "en" formats are American ("Nov. 2, 2026", "11/02/2026 3 p.m."); the app's brands and influencers
are in Europe, where "11/02/2026" reads as 11 February. Short dates name the month so no one misreads them.
German keeps Django's "de" formats ("2. November 2026", "02.11.2026").
"""

DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1  # Monday
