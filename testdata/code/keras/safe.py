import keras

model = keras.models.load_model("model.keras")
other = keras.saving.load_model("other.keras", safe_mode=True)
