-- Satisfaction ratings (hub/domain/ratings.py).

-- name: rating_add
-- Report $1's one rating, by its handling institution at the time; no row when it
-- was rated before.
INSERT INTO report_ratings (report_id, score, comment, institution_code, actor_node, at)
SELECT id, $2, $3, institution_code, $4, $5 FROM reports WHERE id = $1
ON CONFLICT (report_id) DO NOTHING
RETURNING report_id, score, comment, institution_code, actor_node, at
