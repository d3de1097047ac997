"""The aws probe kind: one connector = one AWS account, or every account of an AWS Organization
(`organization` option); planned as units `<account>/iam` and `<account>/<region>` (org.plan)."""

from ..registry import ProbeKind, register
from .checks_categories import CHECKS as CATEGORY_CHECKS
from .checks_inventory import CHECKS as INVENTORY_CHECKS
from .checks_keys import CHECKS as KEY_CHECKS
from .checks_policy import CHECKS as POLICY_CHECKS
from .checks_secrets import CHECKS as SECRET_CHECKS
from .checks_trust import CHECKS as TRUST_CHECKS
from .collect import collect
from .org import plan

CHECKS = [*POLICY_CHECKS, *CATEGORY_CHECKS, *TRUST_CHECKS, *KEY_CHECKS, *SECRET_CHECKS, *INVENTORY_CHECKS]

register(ProbeKind(kind="aws", collect=collect, checks=CHECKS, plan=plan))
