"""The e-invoice rules a receiving access point applies, applied here before anything is
stored or sent: the UBL 2.1 schema (lxml), then the EN 16931 and Peppol schematrons with the
Danish DK-R rules, compiled to XSLT 2.0 and run with Saxon (saxonche).

The rule files are OpenPEPPOL's and OASIS's published artefacts, read from a directory (the
setting PORTAL_EINVOICE_RULES_DIR; see the README for where operators get each release):

    <dir>/ubl-2.1/maindoc/UBL-Invoice-2.1.xsd, UBL-CreditNote-2.1.xsd (and common/)
    <dir>/peppol-bis3-<release>/CEN-EN16931-UBL.xslt, PEPPOL-EN16931-UBL.xslt

Each stylesheet is compiled once per process (about a second); a document then takes tens
of milliseconds. One instance per app (`app.extensions["einvoice_rules"]`). Saxon's runtime
starts with the first check and does not survive a fork: a process that forks workers (the
RQ worker's parent, gunicorn's master) must not check documents itself."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

SVRL = "http://purl.oclc.org/dsdl/svrl"
STYLESHEETS = ("CEN-EN16931-UBL.xslt", "PEPPOL-EN16931-UBL.xslt")
SCHEMAS = {"Invoice": "UBL-Invoice-2.1.xsd", "CreditNote": "UBL-CreditNote-2.1.xsd"}


class RulesMissing(RuntimeError):
    """The rules directory does not hold a schema and a Peppol release."""


@dataclass(frozen=True)
class Finding:
    rule: str  # e.g. "DK-R-014", or "XSD" for a schema error
    flag: str  # "fatal" or "warning"
    text: str
    location: str = ""

    def __str__(self) -> str:
        return f"[{self.rule}] {self.text}" + (f" ({self.location})" if self.location else "")


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    @property
    def fatal(self) -> list[Finding]:
        return [f for f in self.findings if f.flag == "fatal"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.flag != "fatal"]

    @property
    def ok(self) -> bool:
        return not self.fatal


class EinvoiceRules:
    """The UBL schemas and one Peppol rule release, loaded once, checking documents."""

    def __init__(self, directory: Path) -> None:
        directory = Path(directory)
        releases = sorted(directory.glob("peppol-bis3-*"))
        schema_dir = directory / "ubl-2.1" / "maindoc"
        if not releases or not (schema_dir / SCHEMAS["Invoice"]).is_file():
            raise RulesMissing(f"no UBL 2.1 schema and Peppol rules in {directory}")
        self.directory = directory
        self.release_dir = releases[-1]  # the newest release in the folder
        self.release = self.release_dir.name.removeprefix("peppol-bis3-")
        self._schema_dir = schema_dir
        self._schemas: dict[str, etree.XMLSchema] = {}
        self._executables: list = []
        self._lock = threading.Lock()  # Saxon executables are not shared between threads

    def _compiled(self) -> list:
        if self._executables and self._pid != os.getpid():
            raise RuntimeError("the e-invoice rules were compiled before this process forked")
        if not self._executables:
            self._pid = os.getpid()
            from saxonche import PySaxonProcessor

            self._processor = PySaxonProcessor(license=False)
            compiler = self._processor.new_xslt30_processor()
            self._executables = [
                compiler.compile_stylesheet(stylesheet_file=str(self.release_dir / name))
                for name in STYLESHEETS
            ]
        return self._executables

    def _schema(self, root: str) -> etree.XMLSchema:
        if root not in self._schemas:
            self._schemas[root] = etree.XMLSchema(
                etree.parse(str(self._schema_dir / SCHEMAS[root]))
            )
        return self._schemas[root]

    def check(self, xml: bytes) -> Report:
        """Every finding of the schema and both stylesheets; `report.ok` when none is fatal."""
        report = Report()
        try:
            document = etree.fromstring(xml)
        except etree.XMLSyntaxError as error:
            report.findings.append(Finding("XML", "fatal", str(error)))
            return report
        root = etree.QName(document).localname
        if root not in SCHEMAS:
            report.findings.append(Finding("XSD", "fatal", f"not an Invoice or CreditNote: {root}"))
            return report
        with self._lock:
            schema = self._schema(root)
            if not schema.validate(document):
                for error in schema.error_log:
                    report.findings.append(
                        Finding("XSD", "fatal", error.message, f"line {error.line}")
                    )
                return report
            for executable in self._compiled():
                node = self._processor.parse_xml(xml_text=xml.decode("utf-8"))
                svrl = executable.transform_to_string(xdm_node=node)
                report.findings += _findings(svrl)
        return report


def _findings(svrl: str) -> list[Finding]:
    found = []
    for failed in etree.fromstring(svrl.encode("utf-8")).iter(f"{{{SVRL}}}failed-assert"):
        text = failed.findtext(f"{{{SVRL}}}text") or ""
        found.append(
            Finding(
                rule=failed.get("id", ""),
                flag=failed.get("flag", "fatal"),
                text=" ".join(text.split()),
                location=failed.get("location", ""),
            )
        )
    return found


def load(directory: str | Path | None) -> EinvoiceRules | None:
    """The rules in `directory`, or None when it is unset or holds none."""
    if not directory:
        return None
    try:
        return EinvoiceRules(Path(directory))
    except RulesMissing:
        return None
