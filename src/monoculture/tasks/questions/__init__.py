"""The questions task: a user's own questions (CSV or JSONL), categorical or open, against the people's counts.

README, "Your own questions"; docs/methods.md, section 3c.
"""

from monoculture.tasks.questions._file import BUILT_IN, Question, read_questions
from monoculture.tasks.questions._reading import normalised, read_answer
from monoculture.tasks.questions._result import OpenItem, OpenResult, QuestionInfo, QuestionsResult
from monoculture.tasks.questions._spec import QuestionsSpec
from monoculture.tasks.questions._task import QuestionsTask, question_prompt

__all__ = [
    "BUILT_IN",
    "OpenItem",
    "OpenResult",
    "Question",
    "QuestionInfo",
    "QuestionsResult",
    "QuestionsSpec",
    "QuestionsTask",
    "normalised",
    "question_prompt",
    "read_answer",
    "read_questions",
]
