"""L2-regularised logistic regression, fitted with SciPy's L-BFGS.

It minimises what scikit-learn's `LogisticRegression(C=1.0)` (lbfgs) minimises,
`C * sum_i w_i * logloss_i + ||coef||^2 / 2` with the intercept unpenalised, so models fitted before and
after are the same to solver tolerance. scikit-learn itself is not installed for this one call: with
SciPy it is ~55 MB of the install (issue 21 item 7), and the scorer and Platt scaling need nothing else.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit


def fit_logistic(X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None,
                 C: float = 1.0, max_iter: int = 500) -> tuple[np.ndarray, float]:
    """(coef, intercept) of the regularised fit; y holds 0/1 labels."""
    X = np.asarray(X, dtype=float)
    sign = np.where(np.asarray(y) > 0, 1.0, -1.0)
    w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    n_features = X.shape[1]
    scale = 1.0 / (C * float(w.sum()))  # the loss per unit of weight, as scikit-learn scales it

    def loss_and_grad(params: np.ndarray) -> tuple[float, np.ndarray]:
        coef, intercept = params[:n_features], params[n_features]
        margin = sign * (X @ coef + intercept)
        loss = scale * (-C * float(np.dot(w, log_expit(margin))) + 0.5 * float(coef @ coef))
        d = -C * w * sign * expit(-margin)  # d loss / d (X @ coef + intercept)
        grad = np.empty(n_features + 1)
        grad[:n_features] = X.T @ d + coef
        grad[n_features] = d.sum()
        return loss, scale * grad

    # scikit-learn's stopping rule (gtol 1e-4 on the scaled loss), so fits cost what they cost there
    result = minimize(loss_and_grad, np.zeros(n_features + 1), jac=True, method="L-BFGS-B",
                      options={"maxiter": max_iter, "gtol": 1e-4, "ftol": 64 * np.finfo(float).eps})
    return result.x[:n_features], float(result.x[n_features])
