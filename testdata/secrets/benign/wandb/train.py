import os
import wandb

wandb.login(key=os.environ["WANDB_API_KEY"])
run = wandb.init(project="demo", id="e74e20b6f69c31cd048b61d949834d4f374d9343")
