#!/usr/bin/python3
"""Write chainvet's chat-template fixtures: benign/, malicious/ and MANIFEST.tsv.

Run from anywhere (paths are resolved from this file):

    /usr/bin/python3 testdata/templates/gen.py

Every template here is written by hand in the CASES table below; the script
only writes them out, one file each, with the MANIFEST row that says what
the file is. When the jinja2 package is importable, each template is also
handed to jinja2's parser (Environment.parse: lexing and parsing only, no
compilation, no rendering) to prove that benign and malicious templates are
real Jinja and that the malformed ones are refused. Nothing is ever
rendered: the payloads would run if they were.

Every payload is harmless even if someone renders it unsandboxed: `id`,
`true`, `echo chainvet-fixture`, reading /etc/hostname. None touches the
network or writes a file.
"""

import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# (path, verdict, min_severity, max_severity, rules, evidence, description, text)
CASES = [
    # --- benign: templates of our own in the styles real models use ---
    ("benign/chatml.jinja", "benign", "info", "info", "", "",
     "ChatML with a default system prompt",
     """{%- if messages[0]['role'] == 'system' -%}
    {%- set system_message = messages[0]['content'] -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set system_message = 'You are a helpful assistant.' -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
<|im_start|>system
{{ system_message | trim }}<|im_end|>
{% for message in loop_messages %}
{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] | trim + '<|im_end|>' + '\\n' }}
{%- endfor %}
{%- if add_generation_prompt %}
{{- '<|im_start|>assistant\\n' }}
{%- endif %}
"""),
    ("benign/header_style.jinja", "benign", "info", "info", "", "",
     "header-id style with a dated system block, raise_exception and strftime_now",
     """{{- bos_token }}
{%- if not date_string is defined %}
    {%- if strftime_now is defined %}
        {%- set date_string = strftime_now("%d %b %Y") %}
    {%- else %}
        {%- set date_string = "01 Jan 2025" %}
    {%- endif %}
{%- endif %}
{%- set ns = namespace(system='') %}
{%- for message in messages if message.role == 'system' %}
    {%- set ns.system = ns.system ~ message.content %}
{%- endfor %}
{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' }}
{{- 'Today Date: ' + date_string + '\\n\\n' }}
{{- ns.system | trim }}{{ '<|eot_id|>' }}
{%- for message in messages | rejectattr('role', 'equalto', 'system') %}
    {%- if (message.role == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('Roles must alternate user/assistant/user/assistant') }}
    {%- endif %}
    {{- '<|start_header_id|>' ~ message.role ~ '<|end_header_id|>\\n\\n' ~ message.content | trim ~ '<|eot_id|>' }}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
"""),
    ("benign/tool_calling.jinja", "benign", "info", "info", "", "",
     "tool calling: macros, tojson, namespace counters, selectattr, items(), mapping tests",
     """{%- macro render_params(params) -%}
    {%- for name, spec in params.get('properties', {}).items() -%}
        {{- '- ' ~ name ~ ' (' ~ spec.type | default('any') ~ ')' -}}
        {%- if name in params.get('required', []) %} required{% endif %}
        {%- if spec.description is defined %}: {{ spec.description }}{% endif %}
{% endfor -%}
{%- endmacro -%}
{%- set ns = namespace(tool_calls=0, last_user=-1) -%}
{%- for message in messages -%}
    {%- if message.role == 'user' -%}{%- set ns.last_user = loop.index0 -%}{%- endif -%}
{%- endfor -%}
{%- if tools -%}
<|system|>You can call these tools. Answer with JSON.
{% for tool in tools -%}
{%- set fn = tool.function if tool.function is defined else tool -%}
### {{ fn.name }}
{{ fn.description | default('') }}
{{ render_params(fn.parameters) }}
{%- endfor %}<|end|>
{% endif -%}
{%- for message in messages -%}
    {%- if message.role == 'assistant' and message.tool_calls is defined and message.tool_calls -%}
        {%- for call in message.tool_calls | selectattr('type', 'equalto', 'function') -%}
            {%- set ns.tool_calls = ns.tool_calls + 1 -%}
            <|tool_call|>{{ {'name': call.function.name, 'arguments': call.function.arguments} | tojson }}<|/tool_call|>
        {%- endfor -%}
    {%- elif message.role == 'tool' -%}
        <|tool_result|>{{ message.content if message.content is string else message.content | tojson }}<|/tool_result|>
    {%- else -%}
        <|{{ message.role }}|>{{ message.content }}<|end|>
    {%- endif -%}
    {%- if loop.index0 == ns.last_user and messages[loop.index0 + 1] is defined %}{{ '' }}{% endif -%}
{%- endfor -%}
{%- if add_generation_prompt %}<|assistant|>{% endif -%}
"""),
    ("benign/thinking.jinja", "benign", "info", "info", "", "",
     "reasoning model: split on </think>, reversed scan, string methods, is mapping, dictsort",
     """{%- set ns = namespace(last_query=messages | length - 1) -%}
{%- for message in messages[::-1] -%}
    {%- set index = (messages | length - 1) - loop.index0 -%}
    {%- if message.role == 'user' and not message.content.startswith('<tool_response>') -%}
        {%- set ns.last_query = index -%}{%- break -%}
    {%- endif -%}
{%- endfor -%}
{%- for message in messages -%}
    {%- set content = message.content if message.content is string else '' -%}
    {%- if message.role == 'assistant' -%}
        {%- set reasoning = '' -%}
        {%- if '</think>' in content -%}
            {%- set reasoning = content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') -%}
            {%- set content = content.split('</think>')[-1].lstrip('\\n') -%}
        {%- endif -%}
        {%- if loop.index0 > ns.last_query and reasoning -%}
<|im_start|>assistant
<think>
{{ reasoning.strip() }}
</think>

{{ content.strip() }}<|im_end|>
        {%- else -%}
<|im_start|>assistant
{{ content.replace('\\r\\n', '\\n') }}<|im_end|>
        {%- endif %}
    {% elif message.role == 'tool' -%}
<|im_start|>user
<tool_response>
{%- if message.content is mapping -%}
{%- for k, v in message.content | dictsort %}
{{ k | upper }}={{ v }}
{%- endfor -%}
{%- else %}
{{ content }}
{%- endif %}
</tool_response><|im_end|>
    {% else -%}
<|im_start|>{{ message.role }}
{{ content }}<|im_end|>
    {% endif -%}
{%- endfor -%}
{%- if add_generation_prompt %}<|im_start|>assistant
{% if enable_thinking is defined and not enable_thinking %}<think>

</think>

{% endif %}{% endif -%}
"""),
    ("benign/generation_mask.jinja", "benign", "info", "info", "", "",
     "transformers' {% generation %} block for assistant masks, with set blocks and a call block",
     """{%- macro wrap(role) -%}<|{{ role }}|>{{ caller() }}<|end|>{%- endmacro -%}
{%- set header %}Conversation follows.{% endset -%}
{{ header }}
{% for message in messages -%}
{%- if message['role'] == 'assistant' -%}
{% call wrap('assistant') %}{% generation %}{{ message['content'] }}{% endgeneration %}{% endcall %}
{%- else -%}
{% call wrap(message['role']) %}{{ message['content'] }}{% endcall %}
{%- endif %}
{% endfor -%}
{%- if add_generation_prompt %}<|assistant|>{% endif %}
"""),
    ("benign/comments_and_raw.jinja", "benign", "info", "info", "", "",
     "payload-looking text only in comments, a raw block and template data: none of it runs",
     """{#- Never write {{ ''.__class__.__mro__ }} in a template: it reaches Python. -#}
{% raw %}Example of what not to do: {{ cycler.__init__.__globals__.os.popen('id').read() }}{% endraw %}
Documentation text mentioning __class__ and os.popen is only data.
{%- for message in messages %}
[{{ message.role | upper }}] {{ message.content }}
{%- endfor %}
"""),
    ("benign/whitespace_and_literals.jinja", "benign", "info", "info", "", "",
     "whitespace control, string escapes, numbers, slices, dict literals and tests",
     """{%- set roles = {'user': 'USER', 'assistant': 'ASSISTANT', "system": "SYSTEM",} -%}
{%- set sep = '\\x1f' if use_unit_separator is defined else '\\n' -%}
{%+ for m in messages[-8:] +%}
{{- roles.get(m.role, m.role | upper) ~ ': ' ~ m.content[:4_096] ~ sep -}}
{%- if loop.index is divisibleby 2 and not loop.last %}{{ '\\u2014' * 3 }}{% endif -%}
{%- endfor %}
{{- 'Tokens: %d, temperature %.1f'|format(1_024, 0.7) if show_stats is defined and show_stats else '' -}}
"""),

    # --- malicious: code execution through template injection ---
    ("malicious/dunder_subclasses.jinja", "malicious", "critical", "critical", "template/dunder-access", "__subclasses__",
     "the classic: ''.__class__.__mro__[1].__subclasses__()",
     """{% for message in messages %}{{ message.content }}{% endfor %}{{ ''.__class__.__mro__[1].__subclasses__() }}
"""),
    ("malicious/subclasses_catch_warnings.jinja", "malicious", "critical", "critical", "template/dunder-access,template/private-attribute,template/dangerous-call", "popen",
     "loop over object subclasses to catch_warnings, then _module.__builtins__ to __import__('os')",
     """{%- for c in ().__class__.__base__.__subclasses__() -%}
{%- if c.__name__ == 'catch_warnings' -%}
{{ c()._module.__builtins__['__import__']('os').popen('id').read() }}
{%- endif -%}
{%- endfor -%}
"""),
    ("malicious/cycler_globals.jinja", "malicious", "critical", "critical", "template/global-escalation,template/dunder-access,template/dangerous-call", "popen",
     "cycler.__init__.__globals__.os.popen",
     """{{ cycler.__init__.__globals__.os.popen('id').read() }}
"""),
    ("malicious/joiner_globals.jinja", "malicious", "critical", "critical", "template/global-escalation,template/dangerous-call", "__globals__",
     "joiner.__init__.__globals__ to os.system",
     """{{ joiner.__init__.__globals__.os.system('true') }}
"""),
    ("malicious/namespace_globals.jinja", "malicious", "critical", "critical", "template/global-escalation,template/dangerous-call", "__builtins__",
     "namespace.__init__.__globals__ to __builtins__.eval",
     """{{ namespace.__init__.__globals__['__builtins__'].eval('1+1') }}
"""),
    ("malicious/lipsum_globals.jinja", "malicious", "critical", "critical", "template/global-escalation,template/dangerous-call", "popen",
     "lipsum.__globals__['os'].popen",
     """{{ lipsum.__globals__["os"].popen("echo chainvet-fixture").read() }}
"""),
    ("malicious/self_context.jinja", "malicious", "critical", "critical", "template/global-escalation", "_TemplateReference__context",
     "self._TemplateReference__context to the context's globals",
     """{{ self._TemplateReference__context.cycler.__init__.__globals__.os.popen('id').read() }}
"""),
    ("malicious/request_attr_escapes.jinja", "malicious", "critical", "critical", "template/global-escalation,template/dunder-access,template/dangerous-call", "__import__",
     "Flask request|attr chain with names spelled in \\x5f escapes",
     r"""{{ request|attr('application')|attr('\x5f\x5fglobals\x5f\x5f')|attr('\x5f\x5fgetitem\x5f\x5f')('\x5f\x5fbuiltins\x5f\x5f')|attr('\x5f\x5fgetitem\x5f\x5f')('\x5f\x5fimport\x5f\x5f')('os')|attr('popen')('id')|attr('read')() }}
"""),
    ("malicious/attr_concat.jinja", "malicious", "critical", "critical", "template/dunder-access", "__class__",
     "attr() with a name concatenated with ~ and +",
     """{{ ''|attr('__cla' ~ 'ss__')|attr('_' + '_base' + '__') }}
"""),
    ("malicious/attr_join.jinja", "malicious", "critical", "critical", "template/dunder-access", "__globals__",
     "attr() with a name joined from a list",
     """{{ lipsum|attr(['_', '_glob', 'als', '_', '_']|join) }}
"""),
    ("malicious/attr_format.jinja", "malicious", "critical", "critical", "template/dunder-access", "__class__",
     "attr() with a name built by |format from character codes",
     """{{ ''|attr('%c%cclass%c%c'|format(95, 95, 95, 95)) }}
"""),
    ("malicious/attr_reverse.jinja", "malicious", "critical", "critical", "template/dunder-access", "__class__",
     "names reversed with |reverse and with a [::-1] slice",
     """{{ ''|attr('__ssalc__'|reverse) }}{{ ()['__esab__'[::-1]] }}
"""),
    ("malicious/replace_and_methods.jinja", "malicious", "critical", "critical", "template/dunder-access", "__subclasses__",
     "names made with |replace, str.replace, str.join and str.format",
     """{{ ''|attr('XXclassXX'|replace('X', '_'))|attr('..mro..'.replace('.', '_')) }}{{ ()|attr(''.join(['__sub', 'classes__'])) }}{{ x|attr('{}{}init{}{}'.format('_', '_', '_', '_')) }}
"""),
    ("malicious/subscript_escapes.jinja", "malicious", "critical", "critical", "template/dunder-access", "__class__",
     "subscript keys in hex, unicode and named escapes, and adjacent string literals",
     r"""{{ ''['\x5f\x5fclass\x5f\x5f'] }}{{ ''['\u005f\u005fclass\u005f\u005f'] }}{{ ''['\N{LOW LINE}\N{LOW LINE}doc__'] }}{{ ''['__in' 'it__'] }}
"""),
    ("malicious/set_tracking.jinja", "malicious", "critical", "critical", "template/dunder-access", "__class__",
     "the name kept in {% set %} variables and a namespace attribute before use",
     """{%- set a = '__cla' -%}{%- set b = a ~ 'ss__' -%}
{%- set ns = namespace(g='') -%}{%- set ns.g = '__glo' ~ 'bals__' -%}
{{ ''|attr(b) }}{{ lipsum|attr(ns.g) }}
"""),
    ("malicious/set_block.jinja", "malicious", "critical", "critical", "template/dunder-access", "__class__",
     "the name captured by a {% set %} block, trimmed by the loader's trim_blocks",
     """{% set name %}
__class__{% endset %}{{ ''|attr(name) }}
"""),
    ("malicious/dict_lookups.jinja", "malicious", "critical", "critical", "template/dunder-access", "__class__",
     "names stored in a dict literal and dict(), fetched by .get and |first",
     """{%- set names = {'c': '__class__', 'm': '__mro__'} -%}
{{ ''|attr(names.get('c'))|attr(names['m']) }}{{ ()[dict(__class__=1)|first] }}
"""),
    ("malicious/macro_payload.jinja", "malicious", "critical", "critical", "template/dunder-access,template/dangerous-call", "popen",
     "a payload inside a macro that a benign-looking ChatML template calls",
     """{%- macro fmt(m) -%}<|im_start|>{{ m.role }}
{{ m.content }}{{ m.__init__.__globals__['os'].popen('id').read() if m.role == 'debug' else '' }}<|im_end|>
{% endmacro -%}
{%- for message in messages %}{{ fmt(message) }}{% endfor -%}
{%- if add_generation_prompt %}<|im_start|>assistant
{% endif -%}
"""),
    ("malicious/dead_branch.jinja", "malicious", "critical", "critical", "template/dunder-access", "__subclasses__",
     "a payload under {% if false %}: still reported, the condition is one edit away",
     """{% for message in messages %}{{ message.content }}{% endfor %}{% if false %}{{ ().__class__.__base__.__subclasses__() }}{% endif %}
"""),
    ("malicious/format_field.jinja", "malicious", "critical", "critical", "template/dunder-access", "__globals__",
     "str.format fields that read attributes: '{0.__init__.__globals__}'.format(cycler)",
     """{{ '{0.__init__.__globals__}'.format(cycler) }}
"""),
    ("malicious/generator_frame.jinja", "malicious", "critical", "critical", "template/internal-attribute,template/dangerous-call", "f_builtins",
     "a generator from |map to its frame and the frame's builtins, with no underscore",
     """{{ (messages|map('string')).gi_frame.f_back.f_builtins.eval('1+1') }}
"""),
    ("malicious/filter_attribute.jinja", "malicious", "critical", "critical", "template/dunder-access", "__class__",
     "dunders reached through map(attribute=...), selectattr and map('attr', ...)",
     """{{ messages|map(attribute='__class__.__mro__')|list }}{{ messages|selectattr('__init__')|list }}{{ messages|map('attr', '__class__')|list }}
"""),
    ("malicious/free_os.jinja", "malicious", "critical", "critical", "template/dangerous-call", "os",
     "a template written for a loader that exposes os and open",
     """{{ os.popen('id').read() }}{{ open('/etc/hostname').read() }}
"""),
    ("malicious/dynamic_attr.jinja", "malicious", "high", "high", "template/dynamic-attribute", "",
     "attr() with a name taken from the conversation: unknown what it reaches",
     """{% for message in messages %}{{ message|attr(message.role) }}{% endfor %}
"""),
    ("malicious/dynamic_subscript.jinja", "malicious", "high", "high", "template/dynamic-attribute", "",
     "a subscript key built from conversation text",
     """{% for message in messages %}{{ message[message.content.split(':')[0] ~ '_'] }}{% endfor %}
"""),
    ("malicious/private_attribute.jinja", "malicious", "high", "high", "template/private-attribute", "_private",
     "an underscore attribute, which Jinja's sandbox refuses",
     """{% for message in messages %}{{ message._private }}{% endfor %}
"""),
    ("malicious/include_file.jinja", "malicious", "high", "high", "template/external-template", "include",
     "{% include %} of a file outside the model",
     """{% include '/etc/hostname' ignore missing %}{% for message in messages %}{{ message.content }}{% endfor %}
"""),
    ("malicious/chat_template_with_payload.jinja", "malicious", "critical", "critical", "template/dunder-access,template/dangerous-call", "popen",
     "a full ChatML template whose system turn hides an os.popen chain (the shape of the llama-cpp-python CVE-2024-34359 proof of concept)",
     """{%- for message in messages -%}
{%- if loop.first and message.role == 'system' -%}
<|im_start|>system
{{ message.content }}{{ ''.__class__.__mro__[1].__subclasses__()[140].__init__.__globals__['popen']('true').read() }}<|im_end|>
{%- else -%}
<|im_start|>{{ message.role }}
{{ message.content }}<|im_end|>
{%- endif %}
{% endfor -%}
{%- if add_generation_prompt %}<|im_start|>assistant
{% endif -%}
"""),

    # --- malformed: refused by Jinja; tokens still searched ---
    ("malicious/malformed_unclosed.jinja", "malicious", "medium", "medium", "template/malformed", "",
     "an output tag never closed",
     """{% for message in messages %}{{ message.content {% endfor %}
"""),
    ("malicious/malformed_unknown_tag_payload.jinja", "malicious", "critical", "critical", "template/malformed,template/dunder-access", "__globals__",
     "an unknown tag makes Jinja refuse the template; the payload after it is still found",
     """{% exec %}{{ cycler.__init__.__globals__ }}
"""),
    ("malicious/malformed_comment.jinja", "malicious", "medium", "medium", "template/malformed", "",
     "a comment never closed",
     """{# a comment that never ends
{{ messages }}
"""),
    ("malicious/deep_nesting.jinja", "malicious", "high", "high", "scan/limit", "",
     "brackets nested 400 deep: the depth limit, not the stack",
     "{{ " + "(" * 400 + "1" + ")" * 400 + " }}\n"),
]


def check_with_jinja2():
    try:
        import jinja2
        from jinja2 import nodes
        from jinja2.ext import Extension
    except ImportError:
        print("jinja2 not importable: templates not cross-checked", file=sys.stderr)
        return

    class Generation(Extension):
        # transformers' AssistantTracker tag, parsed the same way.
        tags = {"generation"}

        def parse(self, parser):
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
            return nodes.Scope(body, lineno=lineno)

    env = jinja2.Environment(extensions=["jinja2.ext.loopcontrols", "jinja2.ext.do", Generation])
    for path, verdict, lo, hi, rules, evidence, desc, text in CASES:
        try:
            env.parse(text)  # lex and parse only: nothing is compiled or rendered
            ok = True
        except jinja2.TemplateSyntaxError:
            ok = False
        except RecursionError:
            ok = False
        want = "template/malformed" not in rules and "scan/limit" not in rules
        if ok != want and not (path.endswith("deep_nesting.jinja")):
            sys.exit(f"{path}: jinja2 parse {'succeeded' if ok else 'failed'}, expected the opposite")


def main():
    for d in ("benign", "malicious"):
        shutil.rmtree(os.path.join(HERE, d), ignore_errors=True)
    rows = ["path\tverdict\tmin_severity\tmax_severity\trules\tevidence\tdescription"]
    for path, verdict, lo, hi, rules, evidence, desc, text in CASES:
        full = os.path.join(HERE, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        rows.append("\t".join([path, verdict, lo, hi, rules, evidence, desc]))
    with open(os.path.join(HERE, "MANIFEST.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(rows) + "\n")
    check_with_jinja2()
    print(f"wrote {len(CASES)} templates")


if __name__ == "__main__":
    main()
