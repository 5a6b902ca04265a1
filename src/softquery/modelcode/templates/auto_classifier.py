"""AutoML classifier

Predicts a class: tries the classification templates within the time budget and keeps the
simplest one whose cross-validated score is within one standard deviation of
the best (logistic regression first, then k-NN, SVM and trees).
"""


class Model:
    # AutoML: this code is never trained itself. At each training softquery
    # tries the classification templates (logistic regression, k-NN, SVM,
    # random forest, gradient boosting), cross-validates each within the
    # model's time budget, and the version runs the code of the one it chose
    # (the simplest within one standard deviation of the best). The version's
    # notes say what was tried, the scores, and why. This model keeps this code,
    # so the next training chooses again.
    task = "classification"
    automl = "auto_classifier"

    def train(self, X, y):
        raise RuntimeError("This is the AutoML template: softquery replaces it by the chosen "
                           "template's code when the model trains. Start from another template "
                           "to write your own code.")

    def predict(self, X):
        raise RuntimeError("This is the AutoML template: the trained version runs the chosen template.")
