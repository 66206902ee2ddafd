"""How a context and a task prompt become what a model is sent (docs/methods.md, section 2).

Base models get a plain completion prompt; chat models get messages that the backend puts through the
model's own chat template, with the context prepended to the user message or sent as a system message.
"""

from __future__ import annotations

from dataclasses import dataclass

CONTEXT_PLACEMENTS = ("user", "system")


@dataclass(frozen=True)
class RenderedPrompt:
    """Exactly what is sent: ``prompt`` for a base model, ``messages`` for a chat model."""

    prompt: str | None = None
    messages: tuple[tuple[str, str], ...] | None = None

    def as_sent(self) -> str:
        """The prompt as stored: the completion text, or the messages one per line as ``role: content``."""
        if self.prompt is not None:
            return self.prompt
        return "\n".join(f"{role}: {content}" for role, content in self.messages or ())


def render(kind: str, context: str, task_prompt: str, *, context_placement: str = "user") -> RenderedPrompt:
    """Combine an individual's context with a task prompt for a base or chat model."""
    if kind == "base":
        text = f"{context} {task_prompt}" if context else task_prompt
        return RenderedPrompt(prompt=f"{text}\nAnswer:")
    if not context:
        return RenderedPrompt(messages=(("user", task_prompt),))
    if context_placement == "system":
        return RenderedPrompt(messages=(("system", context), ("user", task_prompt)))
    return RenderedPrompt(messages=(("user", f"{context} {task_prompt}"),))
