-- One row that every change of an admin's role locks first, so such changes happen one at a
-- time and none can leave the last admin demoted or removed.
CREATE TABLE admin_lock (id INTEGER PRIMARY KEY);
INSERT INTO admin_lock (id) VALUES (1);
