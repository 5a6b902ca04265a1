"""Model code: static checks and templates."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from softquery.services.code import CodeProblem, TemplateInfo


class CodeCheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=1_000_000, description="Python source with `class Model`.")


class CodeProblemPublic(BaseModel):
    line: int | None
    column: int | None
    message: str
    severity: str = Field(description="error (blocks saving) | warning (advice)")

    @classmethod
    def of(cls, problem: CodeProblem) -> CodeProblemPublic:
        return cls(line=problem.line, column=problem.column, message=problem.message,
                   severity=problem.severity)


class CodeCheckPublic(BaseModel):
    ok: bool = Field(description="True when nothing blocks saving (warnings may remain).")
    problems: list[CodeProblemPublic]

    @classmethod
    def of(cls, problems: list[CodeProblem]) -> CodeCheckPublic:
        return cls(ok=not any(p.severity == "error" for p in problems),
                   problems=[CodeProblemPublic.of(p) for p in problems])


class TemplatePublic(BaseModel):
    name: str
    title: str
    description: str
    task: str

    @classmethod
    def of(cls, info: TemplateInfo) -> TemplatePublic:
        return cls(name=info.name, title=info.title, description=info.description, task=info.task)


class TemplateDetailPublic(TemplatePublic):
    code: str
    search_parameters: list[dict[str, Any]] = Field(
        default_factory=list, description="The parameters a hyperparameter search may name (name, call, keyword, "
        "type, default low/high/log range and grid).")
