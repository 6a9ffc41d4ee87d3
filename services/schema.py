"""Every table of the panel, gathered on ``database.Base.metadata``.

Each feature keeps its tables in ``services/<feature>/models.py``; importing this module imports
them all, so ``Base.metadata`` is complete before the migrations (``services.ops.migrations``) or a
test's ``create_all`` read it. A new feature's models module is added here.
"""
from __future__ import annotations

from database import Base
from services.accounts import models as accounts_models
from services.accounts import tokens_models
from services.alerts import models as alerts_models
from services.checks import models as checks_models
from services.dashboards import models as dashboards_models
from services.ingest import models as ingest_models
from services.ingest import status_models
from services.logs import models as logs_models
from services.metrics import models as metrics_models
from services.monitor import models as monitor_models
from services.products import models as products_models
from services.routing import models as routing_models

MODEL_MODULES = (accounts_models, ingest_models, monitor_models, alerts_models, logs_models,
                 metrics_models, checks_models, tokens_models, routing_models,
                 products_models, status_models, dashboards_models)
metadata = Base.metadata

__all__ = ["MODEL_MODULES", "metadata"]
