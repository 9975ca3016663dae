"""The flows the mirror serves, one per CMS family, by name."""

from __future__ import annotations

from govwatch.demo.mirror.flows.base import Flow, SiteIdent
from govwatch.demo.mirror.flows.generic import GenericFlow
from govwatch.demo.mirror.flows.hanweb_jcms import HanwebJcmsFlow
from govwatch.demo.mirror.flows.hanweb_jpaas import HanwebJpaasFlow
from govwatch.demo.mirror.flows.sd_gongkai import SdGongkaiFlow
from govwatch.demo.mirror.flows.trs_wcm import TrsWcmFlow

FLOWS: dict[str, type[Flow]] = {
    flow.name: flow
    for flow in (GenericFlow, TrsWcmFlow, HanwebJcmsFlow, HanwebJpaasFlow, SdGongkaiFlow)
}


def get_flow(name: str) -> Flow:
    try:
        return FLOWS[name]()
    except KeyError:
        raise ValueError(f"unknown flow {name!r} (known: {', '.join(FLOWS)})") from None


__all__ = ["FLOWS", "Flow", "SiteIdent", "get_flow"]
