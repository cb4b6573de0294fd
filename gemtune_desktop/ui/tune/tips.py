"""The Tune tab's texts: what each setting does, in plain words (tooltips and the guide say the same)."""

from __future__ import annotations

AUTOMATIC = "Automatic (recommended for a first job)"

TIPS: dict[str, str] = {
    "base_model": "The Google model your examples will teach. Lite models are cheaper and quicker to tune and "
                  "to run; larger ones handle harder tasks. The list shows the models this connection can tune.",
    "display_name": "A name to recognise the tuned model by in the Monitor and Test tabs. The Gemini API allows "
                    "up to 40 characters, Google Cloud up to 128.",
    "epochs": "How many times training goes through all your examples. More epochs learn more, but too many "
              "make the model memorise the examples: lower it if the loss curve flattens early, raise it if "
              "the curve is still falling at the end. Automatic lets Google choose from your dataset size.",
    "learning_rate_multiplier": "Scales the size of each learning step (1 = Google's default). Raise it to "
                                "learn faster; lower it if the model memorises the examples or the loss curve "
                                "jumps around.",
    "adapter_size": "How much the tuned model can change: the size of the small add-on trained on top of the "
                    "base model. Larger sizes can learn more complex tasks but need more examples and time. "
                    "Automatic suits most first jobs.",
    "tuning_mode": "Adapter tuning trains a small add-on (quicker, cheaper, recommended). Full tuning changes "
                   "the whole model; only some models offer it.",
    "use_validation": "Check the model during training on your validation examples, which it does not learn "
                      "from. Google strongly recommends it: the validation curve in the Monitor tab shows when "
                      "the model starts memorising instead of learning. Google Cloud takes at most 5,000 "
                      "validation examples, and when there are more than 1,000 of them, at most 30 % as many as "
                      "the training examples.",
    "export_last_checkpoint_only": "Keep only the final model instead of one per epoch. Leave it off to be "
                                   "able to test earlier checkpoints and keep the best one.",
    "batch_size": "How many examples are used per learning step. Larger batches give fewer, smoother steps. "
                  "4 is the default; Google used 16 for large datasets.",
    "learning_rate": "The size of each learning step. 0.001 is the default; use a smaller value for small "
                     "datasets, or if the loss curve jumps around.",
    "learning_rate_mode": "The Gemini API takes either a learning rate or a multiplier of its default rate, "
                          "not both.",
    "price": "Price in US dollars per million training tokens, used only for the estimate. Where no price from "
             "Google with its source and date is known, enter the price you pay; it is remembered for this model.",
    "preset": "Save the current settings under a name to reuse them, or load saved settings.",
}
