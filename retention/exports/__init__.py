"""Exports of a case for the authorities (police, Arbeidstilsynet, NAV): a JSON document
and a PDF made from it. Case content is read through handling's service (audited as a
reading of the case, part "export"), and every export is audited with its reason,
recipient and sections."""
