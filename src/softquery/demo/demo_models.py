"""One example model per demo table (see ``demo_tables``).

Each entry: ``name``, ``description``, ``template`` (a template name from
``softquery/modelcode/templates``), ``train_sql``, ``predict_sql``, ``label``
(the column to learn; the one column the predict query leaves out) and
``id_columns`` (copied through to ``<name>_prediction``).
"""

from __future__ import annotations

DEMO_MODELS: list[dict[str, object]] = [
    {
        "name": "house_quality",
        "description": "Estimates a house's quality score from its price, for the houses "
        "whose quality is still unknown.",
        "template": "linear_regression",
        "train_sql": "select id, price, quality from houses where quality is not null",
        "predict_sql": "select id, price from houses where quality is null",
        "label": "quality",
        "id_columns": ["id"],
    },
    {
        "name": "iris_species",
        "description": "Tells which iris species a flower is from the length and width "
        "of its petals and sepals.",
        "template": "random_forest_classifier",
        "train_sql": "select id, sepal_length_cm, sepal_width_cm, petal_length_cm, "
        "petal_width_cm, species\n"
        "from iris\n"
        "where split = 'train'",
        "predict_sql": "select id, sepal_length_cm, sepal_width_cm, petal_length_cm, "
        "petal_width_cm\n"
        "from iris\n"
        "where split = 'new'",
        "label": "species",
        "id_columns": ["id"],
    },
    {
        "name": "wine_cultivar",
        "description": "Tells which of three grape cultivars a wine comes from, using its "
        "chemical analysis.",
        "template": "logistic_regression",
        "train_sql": "select id,\n"
        "  alcohol, malic_acid, ash, alcalinity_of_ash, magnesium, total_phenols,\n"
        "  flavanoids, nonflavanoid_phenols, proanthocyanins, color_intensity, hue,\n"
        "  od280_od315_of_diluted_wines, proline,\n"
        "  cultivar\n"
        "from wine\n"
        "where split = 'train'",
        "predict_sql": "select id,\n"
        "  alcohol, malic_acid, ash, alcalinity_of_ash, magnesium, total_phenols,\n"
        "  flavanoids, nonflavanoid_phenols, proanthocyanins, color_intensity, hue,\n"
        "  od280_od315_of_diluted_wines, proline\n"
        "from wine\n"
        "where split = 'new'",
        "label": "cultivar",
        "id_columns": ["id"],
    },
    {
        "name": "cancer_diagnosis",
        "description": "Flags whether a breast tumour is likely malignant or benign from "
        "measurements of its cell nuclei.",
        "template": "hist_gradient_boosting_classifier",
        "train_sql": "select id,\n"
        "  mean_radius, mean_texture, mean_perimeter, mean_area, mean_smoothness,\n"
        "  mean_compactness, mean_concavity, mean_concave_points, mean_symmetry,\n"
        "  mean_fractal_dimension, radius_error, texture_error, perimeter_error,\n"
        "  area_error, smoothness_error, compactness_error, concavity_error,\n"
        "  concave_points_error, symmetry_error, fractal_dimension_error, worst_radius,\n"
        "  worst_texture, worst_perimeter, worst_area, worst_smoothness,\n"
        "  worst_compactness, worst_concavity, worst_concave_points, worst_symmetry,\n"
        "  worst_fractal_dimension,\n"
        "  diagnosis\n"
        "from breast_cancer\n"
        "where split = 'train'",
        "predict_sql": "select id,\n"
        "  mean_radius, mean_texture, mean_perimeter, mean_area, mean_smoothness,\n"
        "  mean_compactness, mean_concavity, mean_concave_points, mean_symmetry,\n"
        "  mean_fractal_dimension, radius_error, texture_error, perimeter_error,\n"
        "  area_error, smoothness_error, compactness_error, concavity_error,\n"
        "  concave_points_error, symmetry_error, fractal_dimension_error, worst_radius,\n"
        "  worst_texture, worst_perimeter, worst_area, worst_smoothness,\n"
        "  worst_compactness, worst_concavity, worst_concave_points, worst_symmetry,\n"
        "  worst_fractal_dimension\n"
        "from breast_cancer\n"
        "where split = 'new'",
        "label": "diagnosis",
        "id_columns": ["id"],
    },
    {
        "name": "diabetes_progression",
        "description": "Predicts how far a patient's diabetes will progress in a year from "
        "age, sex, BMI, blood pressure and six blood measurements.",
        "template": "ridge_regression",
        "train_sql": "select id, age, sex, bmi, bp, s1, s2, s3, s4, s5, s6, progression\n"
        "from diabetes\n"
        "where split = 'train'",
        "predict_sql": "select id, age, sex, bmi, bp, s1, s2, s3, s4, s5, s6\n"
        "from diabetes\n"
        "where split = 'new'",
        "label": "progression",
        "id_columns": ["id"],
    },
    {
        "name": "cocacola_fans",
        "description": "Guesses whether a user likes Coca-Cola from their embedding, for "
        "the users we have no answer from yet.",
        "template": "logistic_regression",
        "train_sql": "select id, embedding, cocacola_label from users where cocacola_label <> ''",
        "predict_sql": "select id, embedding from users where cocacola_label = ''",
        "label": "cocacola_label",
        "id_columns": ["id"],
    },
    {
        "name": "sms_kind",
        "description": "Sorts text messages into spam, personal and notification by "
        "the words they use.",
        "template": "naive_bayes_text",
        "train_sql": "select id, message, label from sms where label <> ''",
        "predict_sql": "select id, message from sms where label = ''",
        "label": "label",
        "id_columns": ["id"],
    },
]
