"""Every write to the checklist library. Views, the admin, the API and commands call these.

Each function takes the acting user (keyword-only), checks ``is_curator``, runs in one
transaction and writes one audit event per state change. Published versions are immutable:
content is only ever written to a draft (an import, a new draft copied from an earlier version,
or the admin's draft editing helpers).
"""

from checklists.services.editing import (
    item_delete,
    item_save,
    section_delete,
    section_save,
    template_create,
    template_update,
    version_update,
)
from checklists.services.importing import (
    ImportResult,
    checklist_import,
    default_slug,
    validate_slug,
)
from checklists.services.keys import assign_keys, new_key, normalise_text
from checklists.services.versions import (
    can_new_draft,
    can_publish,
    can_retire,
    version_discard,
    version_new_draft,
    version_publish,
    version_retire,
)

__all__ = [
    "ImportResult",
    "assign_keys",
    "can_new_draft",
    "can_publish",
    "can_retire",
    "checklist_import",
    "default_slug",
    "item_delete",
    "item_save",
    "new_key",
    "normalise_text",
    "section_delete",
    "section_save",
    "template_create",
    "template_update",
    "validate_slug",
    "version_discard",
    "version_new_draft",
    "version_publish",
    "version_retire",
    "version_update",
]
