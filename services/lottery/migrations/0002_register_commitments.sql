-- Register contract 2 (issue 10 H3; g1000_proofs.register, docs/lottery.md): the log holds each
-- row's pseudonym and salted commitments only. The salts that open them stay here, beside the
-- clear values, and leave this database only in a `lottery.register.revealed` event, for the
-- rows and features a draw reaches. NULL salts: a register committed under contract 1, whose
-- rows the log already holds in full.
ALTER TABLE lottery_registers ADD COLUMN contract integer NOT NULL DEFAULT 1;
ALTER TABLE lottery_register_rows ADD COLUMN household_salt bytea, ADD COLUMN feature_salts jsonb;
