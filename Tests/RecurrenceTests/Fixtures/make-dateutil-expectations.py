#!/usr/bin/env python3
"""Writes dateutil-expectations.json: instances of RRULEs in real zones, computed by
python-dateutil (rrulestr) with the standard library's zoneinfo (tzdata).

Run: pip install python-dateutil && python3 make-dateutil-expectations.py > dateutil-expectations.json

dateutil iterates in wall-clock time; zoneinfo reads a time in a DST gap with the offset before
the gap (fold=0), which moves it forward by the gap, and a repeated time as its first occurrence
(fold=0): the readings RFC 5545 §3.3.5 asks for. Where a gap makes two wall times one instant,
the instant is listed once, as the recurrence set lists it. Every DTSTART here is produced by
its rule, and no YEARLY rule relies on a default month, where dateutil and RFC 5545 readings differ.
"""
import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo
from dateutil.rrule import rrulestr

CASES = [
    ("daily across Berlin's spring gap", "Europe/Berlin", "20260101T023000", "FREQ=DAILY;COUNT=400"),
    ("Sundays across New York's overlap", "America/New_York", "20260104T013000", "FREQ=WEEKLY;BYDAY=SU;COUNT=60"),
    ("last Friday monthly in Sydney", "Australia/Sydney", "20260130T180000", "FREQ=MONTHLY;BYDAY=-1FR;COUNT=30"),
    ("leap days", "UTC", "20000229T120000", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=6"),
    ("31st of the month in Kolkata", "Asia/Kolkata", "20260131T093000", "FREQ=MONTHLY;BYMONTHDAY=31;COUNT=20"),
    ("every 5 hours through Berlin's overlap", "Europe/Berlin", "20261024T000000", "FREQ=HOURLY;INTERVAL=5;COUNT=100"),
    ("every 45 minutes in the morning", "America/New_York", "20260307T090000",
     "FREQ=MINUTELY;INTERVAL=45;BYHOUR=9,10,11;COUNT=50"),
    ("weeks 1 and 26 on Monday and Friday", "Europe/Berlin", "20260102T100000",
     "FREQ=YEARLY;BYWEEKNO=1,26;BYDAY=MO,FR;COUNT=20"),
    ("first, last and 100th day of the year", "UTC", "20260101T000000", "FREQ=YEARLY;BYYEARDAY=1,-1,100;COUNT=15"),
    ("first and last weekday of the month", "Europe/Berlin", "20260101T080000",
     "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1,-1;COUNT=24"),
    ("every third week on Tuesday and Saturday", "Australia/Sydney", "20260103T070000",
     "FREQ=WEEKLY;INTERVAL=3;BYDAY=TU,SA;WKST=SU;UNTIL=20271231T235959Z"),
    ("nights of March and October, gaps and overlaps", "Europe/Berlin", "20260301T013000",
     "FREQ=DAILY;BYMONTH=3,10;BYHOUR=1,2,3;BYMINUTE=30;COUNT=200"),
    ("second Sunday of March at 02:30 (always in the gap)", "America/New_York", "20070311T023000",
     "FREQ=YEARLY;BYMONTH=3;BYDAY=2SU;COUNT=10"),
    ("every 2 days at the half hour in Kolkata", "Asia/Kolkata", "20260101T233000", "FREQ=DAILY;INTERVAL=2;COUNT=50"),
]


def instants(tzid, dtstart, rule):
    zone = timezone.utc if tzid == "UTC" else ZoneInfo(tzid)
    start = datetime.strptime(dtstart, "%Y%m%dT%H%M%S").replace(tzinfo=zone)
    seen, out = set(), []
    for dt in rrulestr("RRULE:" + rule, dtstart=start):
        u = dt.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        if u not in seen:
            seen.add(u)
            out.append(u)
    return out


print(json.dumps([{"name": n, "tzid": z, "dtstart": d, "rrule": r, "utc": instants(z, d, r)} for n, z, d, r in CASES],
                 indent=1))
