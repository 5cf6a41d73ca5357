"""One listener skeleton for every slash command: the ack answers what needs no AWS (help, a refusal, a mistake),
a lazy listener parses the words, calls the command's desk and posts the Reply it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from backend.commands import Caller, CommandGrammar, Desk, Reply, split_words
from backend.config import Settings
from bot.messages import Blocks
from bot.messages.replies import Message
from bot.polite import polite
from bot.services import Services
from bot.slack_limits import Answering, TableRefusals

CommandT = TypeVar("CommandT")
# Posts a desk's Reply: ephemeral to whoever asked (`respond`), or in the channel (`client`: a job card; None for a
# button whose answer is never a card).
Post = Callable[[Reply, Respond, WebClient | None, Services, Caller], None]


def caller_of(command: dict[str, Any]) -> Caller:
    """Who sent a Slack slash command, from where, with which words."""
    return Caller(
        command["user_id"], command["channel_id"], command.get("text", ""), command.get("trigger_id", "")
    )


def _table_refusals(services: Services) -> TableRefusals:
    from bot.table_refusals import table_refusals  # botocore: after the ack only

    return table_refusals(services)


def bare_ack(ack: Ack) -> None:
    ack()


def respond_with(respond: Respond, message: Message, **extra: Any) -> None:
    """Answer whoever asked, ephemeral: the text, and the blocks when the message has any (a table as code blocks
    where the workspace refuses tables, and its chart, when `respond` is a command's `Answering`)."""
    if isinstance(respond, Answering):
        respond.answer(message, **extra)
        return
    text, blocks = message
    respond(text=text, blocks=blocks, response_type="ephemeral", **extra)  # blocks None: Bolt sends none


@dataclass(frozen=True)
class SlashCommand(Generic[CommandT]):
    """A slash command: its words (`grammar`), the desk that runs it, and how its Reply is posted."""

    name: str  # `/render`
    grammar: CommandGrammar[CommandT]
    desk: Callable[[Services], Desk[CommandT]]  # built after the ack: a desk may load boto3
    message: Callable[[Reply, Settings], Message]  # a Reply as a message to whoever asked
    post: Post | None = None  # a Reply posted otherwise (job cards); default: `message`, answered ephemeral
    ack: Callable[..., None] = bare_ack  # the ack of a command with work to do

    def immediate_answer(self, command: dict[str, Any], settings: Settings) -> tuple[str, Blocks] | None:
        """The whole answer when the ack can give it (help, a refusal, a mistake); None when there is work."""
        reply = self.grammar.answer_at_once(command.get("text", ""), caller_of(command), settings)
        if reply is None:
            return None
        text, blocks = self.message(reply, settings)
        return text, blocks or []

    def run(self, services: Services, words: list[str], caller: Caller) -> Reply:
        """Parse the words and carry them out on the desk (the ack found nothing to answer at once)."""
        return self.desk(services).run(self.grammar.parse(words, services.settings), caller)

    def register(self, app: App, listen: Callable[..., Any]) -> None:
        """Listen for the command: first the ack-answered (no lazy listener, so no self-invoke on Lambda), then
        the working one (`listen`: `app.command(NAME)`, written out where the commands are registered)."""

        def answered(command: dict[str, Any], context: BoltContext) -> bool:
            return self.immediate_answer(command, context["settings"]) is not None

        def ack_only(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
            answer = self.immediate_answer(command, context["settings"])
            assert answer is not None  # the matcher said so
            ack(text=answer[0], blocks=answer[1], response_type="ephemeral")

        def run_command(
            respond: Respond, client: WebClient, command: dict[str, Any], context: BoltContext
        ) -> None:
            services: Services = context["services"]
            caller = caller_of(command)
            respond = Answering(
                respond, client, lambda: _table_refusals(services), command.get("team_id", "")
            )
            reply = self.run(services, split_words(command.get("text", "")), caller)
            if self.post is not None:
                self.post(reply, respond, client, services, caller)
            else:
                respond_with(respond, self.message(reply, services.settings))

        run_command.__name__ = run_command.__qualname__ = f"run_{self.name.lstrip('/')}"  # in the log
        app.command(self.name, matchers=[answered])(ack_only)
        listen(ack=self.ack, lazy=[polite(run_command)])
