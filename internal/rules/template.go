package rules

import "github.com/chainvet/chainvet/internal/inventory"

// templateRules are reported by package jinja on chat templates (GGUF
// tokenizer.chat_template, tokenizer_config.json chat_template,
// chat_template.jinja): Jinja templates that a loader renders, where
// template injection becomes code execution (CVE-2024-34359).
var templateRules = []Rule{
	{"template/dunder-access", inventory.Critical,
		"A chat template reaches a Python special attribute (__class__, __globals__, __subclasses__, …), however the name is spelled.",
		"From a dunder a template walks to classes, modules and builtins and runs commands when a loader renders it outside a sandbox. Chat templates never need one. Do not load the model; replace the template with the model family's published one."},
	{"template/global-escalation", inventory.Critical,
		"A chat template reaches private or special attributes of a template global (cycler, joiner, namespace, lipsum, self, request, loop, …).",
		"These globals are the usual first step of server-side template injection: their functions' __globals__ lead to os and builtins. Do not load the model; replace the template."},
	{"template/internal-attribute", inventory.Critical,
		"A chat template reaches interpreter internals without underscores (gi_frame, f_globals, f_builtins, mro, …).",
		"A generator's frame, a frame's globals or builtins reach eval and os without any dunder in the template. Do not load the model; replace the template."},
	{"template/dangerous-call", inventory.Critical,
		"A chat template names or calls something that runs commands, imports, evaluates or reads files (os, popen, eval, open, __import__, …).",
		"Rendering the template runs it wherever the name resolves. Do not load the model; replace the template."},
	{"template/private-attribute", inventory.High,
		"A chat template reads an underscore attribute.",
		"Jinja's sandbox refuses these, and outside it they reach objects' internals (_module, _TemplateReference__context). Chat templates never need one; review the template."},
	{"template/dynamic-attribute", inventory.High,
		"A chat template looks up an attribute (attr(), a string-built subscript, a computed map or format string) whose name is only known when it runs.",
		"What the lookup reaches depends on data: with a crafted message or variable it can be a dunder. Review the template; a real chat template names its fields."},
	{"template/external-template", inventory.High,
		"A chat template includes, imports or extends another template.",
		"Chat templates are self-contained; a loader that allows this reads files from outside the model. Review what it loads, or replace the template."},
	{"template/malformed", inventory.Medium,
		"A chat template is not valid Jinja; its tokens were still searched for dangerous names.",
		"Jinja refuses it, but more lenient loaders (llama.cpp's among them) may render it. Fix or replace the template."},
}
