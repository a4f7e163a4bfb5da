# Reference renderings of chat templates with Python's jinja2, set up the way Hugging Face transformers'
# apply_chat_template sets it up (sandboxed environment, trim_blocks and lstrip_blocks, loop controls,
# raise_exception, strftime_now, a tojson that keeps non-ASCII text); the variables are messages,
# tools=None, documents=None, add_generation_prompt, bos_token, eos_token and the case's extra variables.
#
# Input on stdin: {"cases": [{"id", "template", "bos_token", "eos_token", "messages", "add_generation_prompt",
# "variables"}]}; output on stdout: {"jinja2": version, "renderings": {id: text}}.
# Driven by scripts/chat-template-reference.ts, which writes tests/engine/chat-template-reference.json.

import json
import sys
from datetime import datetime

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env


def main():
    request = json.load(sys.stdin)
    env = environment()
    renderings = {}
    for case in request["cases"]:
        template = env.from_string(case["template"])
        renderings[case["id"]] = template.render(
            messages=case["messages"],
            tools=None,
            documents=None,
            add_generation_prompt=case["add_generation_prompt"],
            bos_token=case["bos_token"],
            eos_token=case["eos_token"],
            **case["variables"],
        )
    json.dump({"jinja2": jinja2.__version__, "renderings": renderings}, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


main()
