from langchain.agents import load_tools
from langchain_community.tools import ShellTool
from langchain_experimental.agents import create_pandas_dataframe_agent
from langchain_experimental.tools import PythonREPLTool

tools = [PythonREPLTool(), ShellTool()]
more = load_tools(["llm-math", "terminal"], llm=llm)
agent = create_pandas_dataframe_agent(llm, df, allow_dangerous_code=True)
