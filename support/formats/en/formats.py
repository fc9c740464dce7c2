# The shop's English dates, as its pages and e-mails have always written them ("3 December 2026",
# short "3 Dec 2026"); other languages keep Django's own formats (Japanese: 2026年12月3日).
DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = "j M Y"
