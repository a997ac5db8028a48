from os import path
print(path.sep)
