import keras
import tensorflow as tf

keras.config.enable_unsafe_deserialization()
model = tf.keras.models.load_model("model.keras", safe_mode=False)
