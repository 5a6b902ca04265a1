"""The template parameters registry: every template has its tunable parameters, each sets a
keyword of a call its code makes, and every default value renders into code that still loads."""

from __future__ import annotations

import ast

import pytest

from softquery.modelcode.template_parameters import with_parameters
from softquery.modelcode.template_search_spaces import TEMPLATE_SEARCH_SPACES, calls_in
from softquery.modelcode.templates import list_templates, template_code

AUTO = ("auto", "auto_regressor", "auto_classifier")  # AutoML chooses templates itself


def test_every_template_has_search_parameters() -> None:
    names = {t.name for t in list_templates()} - set(AUTO)
    assert names <= set(TEMPLATE_SEARCH_SPACES), names - set(TEMPLATE_SEARCH_SPACES)


@pytest.mark.parametrize("template", sorted(TEMPLATE_SEARCH_SPACES))
def test_each_parameter_sets_a_call_of_the_template(template: str) -> None:
    code = template_code(template)
    for p in TEMPLATE_SEARCH_SPACES[template]:
        assert p.call in calls_in(code), (template, p.call)
        assert p.grid, p.name
        if p.kind != "choice":
            assert p.low is not None and p.high is not None and p.low < p.high
            assert not p.log or p.low > 0
        for value in p.grid:
            rendered = with_parameters(code, calls={p.call: {p.keyword: value}})
            ast.parse(rendered)
            assert f"{p.keyword}={value!r}" in rendered
