-- The reporter's voice: answers to follow-ups (REPLY, written with the change like a
-- follow-up) and one satisfaction rating per completed report (hub/domain/ratings.py).
-- Neither holds identity: the reporter's stays in reporters, under its privacy rules.
CREATE TABLE replies (
    report_id  uuid NOT NULL REFERENCES reports (id),
    id         bigserial,
    content    text NOT NULL,
    actor_node text NOT NULL REFERENCES nodes (code),
    at         timestamptz NOT NULL,
    PRIMARY KEY (report_id, id)
);

CREATE TABLE report_ratings (
    report_id      uuid PRIMARY KEY REFERENCES reports (id),
    score          smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment        text,
    institution_code text NOT NULL REFERENCES institutions (code),
    actor_node     text NOT NULL REFERENCES nodes (code),
    at             timestamptz NOT NULL
);
CREATE INDEX report_ratings_institution ON report_ratings (institution_code, at);
