"""Compact signed label codes for certified agricultural products.

A pure library: keys come in as records, codes go out as strings and bytes.
It never imports a web framework or a database layer.

Typical use::

    ring = KeyRing(records, passphrase)
    code = ring.sign(serial)
    url = label_url(base_url, code)
    label = ring.verify(scanned_text)   # raises a LabelCodeError subclass
"""

from label_gen.bulk import Label, iter_labels, iter_labels_with
from label_gen.codec import (
    CODE_DIGITS,
    CODE_VERSION,
    MAX_SERIAL,
    ParsedCode,
    label_url,
    parse,
)
from label_gen.exc import (
    BadPassphrase,
    BadPin,
    BadSignature,
    BundleError,
    BundleExpired,
    BundleSignatureError,
    KeyRingError,
    LabelCodeError,
    LabelGenError,
    LayoutError,
    MalformedBundle,
    MalformedCode,
    NoSigningKey,
    RevokedKey,
    UnknownKey,
)
from label_gen.keys import (
    CheckResult,
    KeyRecord,
    KeyRing,
    KeyStatus,
    Signer,
    VerifiedLabel,
    generate_key_record,
    public_key_set,
    records_from_public_key_set,
    retire_key,
    revoke_key,
    rotate_keys,
)
from label_gen.manifest import iter_manifest, write_manifest
from label_gen.offline import (
    BundleData,
    OfflineBundle,
    OfflineVerdict,
    dump_bundle,
    load_bundle,
    load_public_key_set,
)
from label_gen.pins import check_pin, derive_pin, verify_pin
from label_gen.render import QRRenderer, render_png, render_svg
from label_gen.sheets import LABEL_FORMATS, PROGRAMME_MARKS, iter_sheet_pdf, plan_layout, write_sheet_pdf

__all__ = [
    "CODE_DIGITS",
    "CODE_VERSION",
    "LABEL_FORMATS",
    "MAX_SERIAL",
    "PROGRAMME_MARKS",
    "BadPassphrase",
    "BadPin",
    "BadSignature",
    "BundleData",
    "BundleError",
    "BundleExpired",
    "BundleSignatureError",
    "CheckResult",
    "KeyRecord",
    "KeyRing",
    "KeyRingError",
    "KeyStatus",
    "Label",
    "LabelCodeError",
    "LabelGenError",
    "LayoutError",
    "MalformedBundle",
    "MalformedCode",
    "NoSigningKey",
    "OfflineBundle",
    "OfflineVerdict",
    "ParsedCode",
    "QRRenderer",
    "RevokedKey",
    "Signer",
    "UnknownKey",
    "VerifiedLabel",
    "check_pin",
    "derive_pin",
    "dump_bundle",
    "generate_key_record",
    "iter_labels",
    "iter_labels_with",
    "iter_manifest",
    "iter_sheet_pdf",
    "label_url",
    "load_bundle",
    "load_public_key_set",
    "parse",
    "plan_layout",
    "public_key_set",
    "records_from_public_key_set",
    "render_png",
    "render_svg",
    "retire_key",
    "revoke_key",
    "rotate_keys",
    "verify_pin",
    "write_manifest",
    "write_sheet_pdf",
]
