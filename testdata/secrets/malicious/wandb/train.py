import wandb

wandb.login(key="b9851ae7fc32a66c628986b8bde9aecb089ea5ae")
run = wandb.init(project="demo")
