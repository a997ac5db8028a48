from langchain.agents import load_tools

tools = load_tools(["llm-math", "wikipedia"], llm=llm)
note = "PythonREPLTool() and ShellTool() are not used here"
