import sqlite3


def answer(chain, question):
    conn = sqlite3.connect("app.db")
    cursor = conn.cursor()
    sql = chain.invoke({"question": question})
    cursor.execute(sql)
    return cursor.fetchall()
