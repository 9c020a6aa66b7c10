"""Intake operations: submit a report, list and open one's own reports, attachments.

Everything a report holds that is not coarse classification is sealed here, with the
report's own data key, before it reaches the session. Operations add and flush; the
request (or CLI command) commits once, so a failure anywhere leaves nothing behind.

The operations live in one module per sub-domain; this package re-exports the public
names, so callers write `from reporting import service` and `service.submit_report(...)`.

  base         the Oslo clock, the owner tag, the report's data key and sealed fields,
               the shapes returned (StoredFile, ReportContent, Upload)
  attachments  files checked (type, size, count), images stripped, sealed and streamed
  intake       submitting a report; the people a reporter picks from
  references   the report's reference and its Core statements (INSERT, then the
               reference and sealed fields written last, in one UPDATE)
  reading      one's own reports, a report or attachment opened (audited), the people
               a report names, the reporter-visible status

Domain errors are in reporting/errors.py.
"""

from __future__ import annotations

from reporting import people_index
from reporting.errors import ReportError, ReportNotFound
from reporting.service.attachments import (
    IMAGE_FORMATS,
    MAX_IMAGE_PIXELS,
    attachment_name,
    attachment_stream,
    check_upload,
    check_uploads,
    selected_files,
    sniff_type,
    store_attachment,
    strip_image_metadata,
)
from reporting.service.base import (
    OSLO,
    READ_CHUNK,
    STORE_CHUNK,
    ReportContent,
    StoredFile,
    Upload,
    _open,
    data_key,
    month_of,
    owner_tag,
    seal_value,
    start_of_day_utc,
    time_band,
)
from reporting.service.intake import (
    employees_led_by,
    handlers,
    report_by_submission,
    reporter_actor,
    submit_report,
)
from reporting.service.reading import (
    MAX_ID,
    NameSearch,
    PeopleNamed,
    attachment_download,
    exposed_names,
    find_attachment,
    get_report,
    involved_user_ids,
    is_owner,
    open_attachment,
    open_report,
    own_report,
    own_report_ids,
    people_named,
    reporter_identity,
    reports_naming,
    reports_of,
    set_status,
)
from reporting.service.references import next_reference, random_reference, typed_reference

names = people_index.names

__all__ = [
    "names",
    "IMAGE_FORMATS",
    "MAX_ID",
    "MAX_IMAGE_PIXELS",
    "OSLO",
    "PeopleNamed",
    "READ_CHUNK",
    "STORE_CHUNK",
    "ReportContent",
    "ReportError",
    "ReportNotFound",
    "StoredFile",
    "Upload",
    "_open",
    "attachment_name",
    "attachment_stream",
    "check_upload",
    "check_uploads",
    "data_key",
    "employees_led_by",
    "find_attachment",
    "get_report",
    "handlers",
    "exposed_names",
    "involved_user_ids",
    "is_owner",
    "month_of",
    "next_reference",
    "attachment_download",
    "open_attachment",
    "open_report",
    "own_report",
    "owner_tag",
    "people_named",
    "random_reference",
    "typed_reference",
    "report_by_submission",
    "reporter_actor",
    "NameSearch",
    "reporter_identity",
    "reports_naming",
    "reports_of",
    "own_report_ids",
    "seal_value",
    "selected_files",
    "set_status",
    "sniff_type",
    "start_of_day_utc",
    "store_attachment",
    "strip_image_metadata",
    "submit_report",
    "time_band",
]
