"""The tables of feature packages, imported so they join ``Base.metadata`` before it is created."""
from services.api_tokens import models as _api_token_models  # noqa: F401
from services.routing import models as _routing_models  # noqa: F401
