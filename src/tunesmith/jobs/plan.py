"""The demo's plan (no torch: the command line shows it in ``--help``).

Every model trains to a budget of **steps**, never of seconds, each in one thread: the same demo gives the same
weights and the same report on a fast or a slow, idle or busy machine; only the wall time differs
(docs/evaluation.md, "make demo on an idle and a busy machine"). Two models train at a time on two cores.

Which models and their budgets are the families' declarations (``demo_settings``, ``in_paper`` on each spec): a
family joins the demo by declaring them, not by a line here.
"""

from __future__ import annotations

from ..families import specs

#: The demo's models: kind -> the settings of its default preset that the demo changes (``max_steps`` is the
#: budget; ``epochs`` only an upper bound that the steps reach first), in the registry's order
DEMO_MODELS: dict[str, dict[str, str]] = {
    name: dict(s.demo_settings) for name, s in specs().items() if s.demo_settings is not None
}

#: the paper's models: the demo's report shows those shipped with tunesmith beside the ones it trains
PAPER_KINDS = tuple(name for name, s in specs().items() if s.in_paper)
