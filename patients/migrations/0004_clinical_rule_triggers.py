"""Database triggers for the clinical rules that span tables (patients/clinical_rules.py).

The SQL is written out below, so this migration does the same on every database whatever
patients/clinical_rules.py says later. Until the code reorganisation of issue 13 this migration
generated its SQL from that module when it ran; the statements below are byte for byte what it
generated then, so databases migrated before hold the same triggers. To change a rule, or one
of the four tables, write a new migration: `python manage.py clinical_rules_migration NAME`.
"""

from django.db import migrations

# The triggers as this migration leaves them. `manage.py clinical_rules_migration` copies this
# into the next rule migration, which drops them before it installs its own.
CLINICAL_RULES_SQL = {
    "sqlite": {
        "create": [
            (
                "CREATE TRIGGER amputation_not_before_birth_ins BEFORE INSERT ON"
                " patients_amputation FOR EACH ROW WHEN NEW.date < (SELECT p.date_of_birth FROM"
                " patients_patient p WHERE p.id = NEW.patient_id) BEGIN SELECT RAISE(ABORT,"
                " 'amputation_not_before_birth'); END"
            ),
            (
                "CREATE TRIGGER amputation_not_before_birth_upd BEFORE UPDATE ON"
                " patients_amputation FOR EACH ROW WHEN NEW.date < (SELECT p.date_of_birth FROM"
                " patients_patient p WHERE p.id = NEW.patient_id) BEGIN SELECT RAISE(ABORT,"
                " 'amputation_not_before_birth'); END"
            ),
            (
                "CREATE TRIGGER patient_birth_not_after_amputations_ins BEFORE INSERT ON"
                " patients_patient FOR EACH ROW WHEN EXISTS (SELECT 1 FROM patients_amputation a"
                " WHERE a.patient_id = NEW.id AND a.date < NEW.date_of_birth) BEGIN SELECT"
                " RAISE(ABORT, 'amputation_not_before_birth'); END"
            ),
            (
                "CREATE TRIGGER patient_birth_not_after_amputations_upd BEFORE UPDATE OF"
                " date_of_birth ON patients_patient FOR EACH ROW WHEN EXISTS (SELECT 1 FROM"
                " patients_amputation a WHERE a.patient_id = NEW.id AND a.date < NEW.date_of_birth)"
                " BEGIN SELECT RAISE(ABORT, 'amputation_not_before_birth'); END"
            ),
            (
                "CREATE TRIGGER surgery_amputation_same_patient_ins BEFORE INSERT ON"
                " patients_surgery FOR EACH ROW WHEN NEW.patient_id <> (SELECT a.patient_id FROM"
                " patients_amputation a WHERE a.id = NEW.amputation_id) BEGIN SELECT RAISE(ABORT,"
                " 'surgery_amputation_same_patient'); END"
            ),
            (
                "CREATE TRIGGER surgery_amputation_same_patient_upd BEFORE UPDATE ON"
                " patients_surgery FOR EACH ROW WHEN NEW.patient_id <> (SELECT a.patient_id FROM"
                " patients_amputation a WHERE a.id = NEW.amputation_id) BEGIN SELECT RAISE(ABORT,"
                " 'surgery_amputation_same_patient'); END"
            ),
            (
                "CREATE TRIGGER amputation_patient_matches_surgeries_ins BEFORE INSERT ON"
                " patients_amputation FOR EACH ROW WHEN EXISTS (SELECT 1 FROM patients_surgery s"
                " WHERE s.amputation_id = NEW.id AND s.patient_id <> NEW.patient_id) BEGIN SELECT"
                " RAISE(ABORT, 'surgery_amputation_same_patient'); END"
            ),
            (
                "CREATE TRIGGER amputation_patient_matches_surgeries_upd BEFORE UPDATE OF"
                " patient_id ON patients_amputation FOR EACH ROW WHEN EXISTS (SELECT 1 FROM"
                " patients_surgery s WHERE s.amputation_id = NEW.id AND s.patient_id <>"
                " NEW.patient_id) BEGIN SELECT RAISE(ABORT, 'surgery_amputation_same_patient'); END"
            ),
            (
                "CREATE TRIGGER surgery_not_before_amputation_ins BEFORE INSERT ON patients_surgery"
                " FOR EACH ROW WHEN NEW.date < (SELECT a.date FROM patients_amputation a WHERE a.id"
                " = NEW.amputation_id) BEGIN SELECT RAISE(ABORT, 'surgery_not_before_amputation');"
                " END"
            ),
            (
                "CREATE TRIGGER surgery_not_before_amputation_upd BEFORE UPDATE ON patients_surgery"
                " FOR EACH ROW WHEN NEW.date < (SELECT a.date FROM patients_amputation a WHERE a.id"
                " = NEW.amputation_id) BEGIN SELECT RAISE(ABORT, 'surgery_not_before_amputation');"
                " END"
            ),
            (
                "CREATE TRIGGER amputation_not_after_surgeries_ins BEFORE INSERT ON"
                " patients_amputation FOR EACH ROW WHEN EXISTS (SELECT 1 FROM patients_surgery s"
                " WHERE s.amputation_id = NEW.id AND s.date < NEW.date) BEGIN SELECT RAISE(ABORT,"
                " 'surgery_not_before_amputation'); END"
            ),
            (
                "CREATE TRIGGER amputation_not_after_surgeries_upd BEFORE UPDATE OF date ON"
                " patients_amputation FOR EACH ROW WHEN EXISTS (SELECT 1 FROM patients_surgery s"
                " WHERE s.amputation_id = NEW.id AND s.date < NEW.date) BEGIN SELECT RAISE(ABORT,"
                " 'surgery_not_before_amputation'); END"
            ),
            (
                "CREATE TRIGGER surgery_primary_tmr_at_amputation_ins BEFORE INSERT ON"
                " patients_surgery FOR EACH ROW WHEN NEW.procedure = 'primary_tmr' AND"
                " julianday(NEW.date) - julianday((SELECT a.date FROM patients_amputation a WHERE"
                " a.id = NEW.amputation_id)) > 14 BEGIN SELECT RAISE(ABORT,"
                " 'surgery_primary_tmr_at_amputation'); END"
            ),
            (
                "CREATE TRIGGER surgery_primary_tmr_at_amputation_upd BEFORE UPDATE ON"
                " patients_surgery FOR EACH ROW WHEN NEW.procedure = 'primary_tmr' AND"
                " julianday(NEW.date) - julianday((SELECT a.date FROM patients_amputation a WHERE"
                " a.id = NEW.amputation_id)) > 14 BEGIN SELECT RAISE(ABORT,"
                " 'surgery_primary_tmr_at_amputation'); END"
            ),
            (
                "CREATE TRIGGER amputation_date_within_primary_tmr_window_ins BEFORE INSERT ON"
                " patients_amputation FOR EACH ROW WHEN EXISTS (SELECT 1 FROM patients_surgery s"
                " WHERE s.amputation_id = NEW.id AND s.procedure = 'primary_tmr' AND"
                " julianday(s.date) - julianday(NEW.date) > 14) BEGIN SELECT RAISE(ABORT,"
                " 'surgery_primary_tmr_at_amputation'); END"
            ),
            (
                "CREATE TRIGGER amputation_date_within_primary_tmr_window_upd BEFORE UPDATE OF date"
                " ON patients_amputation FOR EACH ROW WHEN EXISTS (SELECT 1 FROM patients_surgery s"
                " WHERE s.amputation_id = NEW.id AND s.procedure = 'primary_tmr' AND"
                " julianday(s.date) - julianday(NEW.date) > 14) BEGIN SELECT RAISE(ABORT,"
                " 'surgery_primary_tmr_at_amputation'); END"
            ),
            (
                "CREATE TRIGGER nerve_transfer_fits_limb_ins BEFORE INSERT ON"
                " patients_nervetransfer FOR EACH ROW WHEN EXISTS (SELECT 1 FROM patients_surgery s"
                " JOIN patients_amputation a ON a.id = s.amputation_id WHERE s.id = NEW.surgery_id"
                " AND NOT ((a.limb = 'upper' AND NEW.nerve IN ('median', 'ulnar', 'radial',"
                " 'superficial_radial', 'musculocutaneous', 'medial_antebrachial_cutaneous',"
                " 'medial_brachial_cutaneous', 'axillary', 'digital')) OR (a.limb = 'lower' AND"
                " NEW.nerve IN ('sciatic', 'tibial', 'common_peroneal', 'superficial_peroneal',"
                " 'deep_peroneal', 'sural', 'saphenous', 'femoral', 'posterior_femoral_cutaneous',"
                " 'lateral_femoral_cutaneous', 'obturator')))) BEGIN SELECT RAISE(ABORT,"
                " 'nerve_transfer_fits_limb'); END"
            ),
            (
                "CREATE TRIGGER nerve_transfer_fits_limb_upd BEFORE UPDATE ON"
                " patients_nervetransfer FOR EACH ROW WHEN EXISTS (SELECT 1 FROM patients_surgery s"
                " JOIN patients_amputation a ON a.id = s.amputation_id WHERE s.id = NEW.surgery_id"
                " AND NOT ((a.limb = 'upper' AND NEW.nerve IN ('median', 'ulnar', 'radial',"
                " 'superficial_radial', 'musculocutaneous', 'medial_antebrachial_cutaneous',"
                " 'medial_brachial_cutaneous', 'axillary', 'digital')) OR (a.limb = 'lower' AND"
                " NEW.nerve IN ('sciatic', 'tibial', 'common_peroneal', 'superficial_peroneal',"
                " 'deep_peroneal', 'sural', 'saphenous', 'femoral', 'posterior_femoral_cutaneous',"
                " 'lateral_femoral_cutaneous', 'obturator')))) BEGIN SELECT RAISE(ABORT,"
                " 'nerve_transfer_fits_limb'); END"
            ),
            (
                "CREATE TRIGGER surgery_amputation_fits_nerve_transfers_ins BEFORE INSERT ON"
                " patients_surgery FOR EACH ROW WHEN EXISTS (SELECT 1 FROM patients_nervetransfer n"
                " JOIN patients_amputation a ON a.id = NEW.amputation_id WHERE n.surgery_id ="
                " NEW.id AND NOT ((a.limb = 'upper' AND n.nerve IN ('median', 'ulnar', 'radial',"
                " 'superficial_radial', 'musculocutaneous', 'medial_antebrachial_cutaneous',"
                " 'medial_brachial_cutaneous', 'axillary', 'digital')) OR (a.limb = 'lower' AND"
                " n.nerve IN ('sciatic', 'tibial', 'common_peroneal', 'superficial_peroneal',"
                " 'deep_peroneal', 'sural', 'saphenous', 'femoral', 'posterior_femoral_cutaneous',"
                " 'lateral_femoral_cutaneous', 'obturator')))) BEGIN SELECT RAISE(ABORT,"
                " 'nerve_transfer_fits_limb'); END"
            ),
            (
                "CREATE TRIGGER surgery_amputation_fits_nerve_transfers_upd BEFORE UPDATE OF"
                " amputation_id ON patients_surgery FOR EACH ROW WHEN EXISTS (SELECT 1 FROM"
                " patients_nervetransfer n JOIN patients_amputation a ON a.id = NEW.amputation_id"
                " WHERE n.surgery_id = NEW.id AND NOT ((a.limb = 'upper' AND n.nerve IN ('median',"
                " 'ulnar', 'radial', 'superficial_radial', 'musculocutaneous',"
                " 'medial_antebrachial_cutaneous', 'medial_brachial_cutaneous', 'axillary',"
                " 'digital')) OR (a.limb = 'lower' AND n.nerve IN ('sciatic', 'tibial',"
                " 'common_peroneal', 'superficial_peroneal', 'deep_peroneal', 'sural', 'saphenous',"
                " 'femoral', 'posterior_femoral_cutaneous', 'lateral_femoral_cutaneous',"
                " 'obturator')))) BEGIN SELECT RAISE(ABORT, 'nerve_transfer_fits_limb'); END"
            ),
            (
                "CREATE TRIGGER amputation_limb_fits_nerve_transfers_ins BEFORE INSERT ON"
                " patients_amputation FOR EACH ROW WHEN EXISTS (SELECT 1 FROM"
                " patients_nervetransfer n JOIN patients_surgery s ON s.id = n.surgery_id WHERE"
                " s.amputation_id = NEW.id AND NOT ((NEW.limb = 'upper' AND n.nerve IN ('median',"
                " 'ulnar', 'radial', 'superficial_radial', 'musculocutaneous',"
                " 'medial_antebrachial_cutaneous', 'medial_brachial_cutaneous', 'axillary',"
                " 'digital')) OR (NEW.limb = 'lower' AND n.nerve IN ('sciatic', 'tibial',"
                " 'common_peroneal', 'superficial_peroneal', 'deep_peroneal', 'sural', 'saphenous',"
                " 'femoral', 'posterior_femoral_cutaneous', 'lateral_femoral_cutaneous',"
                " 'obturator')))) BEGIN SELECT RAISE(ABORT, 'nerve_transfer_fits_limb'); END"
            ),
            (
                "CREATE TRIGGER amputation_limb_fits_nerve_transfers_upd BEFORE UPDATE OF limb ON"
                " patients_amputation FOR EACH ROW WHEN EXISTS (SELECT 1 FROM"
                " patients_nervetransfer n JOIN patients_surgery s ON s.id = n.surgery_id WHERE"
                " s.amputation_id = NEW.id AND NOT ((NEW.limb = 'upper' AND n.nerve IN ('median',"
                " 'ulnar', 'radial', 'superficial_radial', 'musculocutaneous',"
                " 'medial_antebrachial_cutaneous', 'medial_brachial_cutaneous', 'axillary',"
                " 'digital')) OR (NEW.limb = 'lower' AND n.nerve IN ('sciatic', 'tibial',"
                " 'common_peroneal', 'superficial_peroneal', 'deep_peroneal', 'sural', 'saphenous',"
                " 'femoral', 'posterior_femoral_cutaneous', 'lateral_femoral_cutaneous',"
                " 'obturator')))) BEGIN SELECT RAISE(ABORT, 'nerve_transfer_fits_limb'); END"
            ),
            (
                "CREATE TRIGGER patient_birth_not_in_future_ins BEFORE INSERT ON patients_patient"
                " FOR EACH ROW WHEN NEW.date_of_birth > date('now', '+1 day') BEGIN SELECT"
                " RAISE(ABORT, 'clinical_date_not_in_future'); END"
            ),
            (
                "CREATE TRIGGER patient_birth_not_in_future_upd BEFORE UPDATE ON patients_patient"
                " FOR EACH ROW WHEN NEW.date_of_birth > date('now', '+1 day') BEGIN SELECT"
                " RAISE(ABORT, 'clinical_date_not_in_future'); END"
            ),
            (
                "CREATE TRIGGER amputation_date_not_in_future_ins BEFORE INSERT ON"
                " patients_amputation FOR EACH ROW WHEN NEW.date > date('now', '+1 day') BEGIN"
                " SELECT RAISE(ABORT, 'clinical_date_not_in_future'); END"
            ),
            (
                "CREATE TRIGGER amputation_date_not_in_future_upd BEFORE UPDATE ON"
                " patients_amputation FOR EACH ROW WHEN NEW.date > date('now', '+1 day') BEGIN"
                " SELECT RAISE(ABORT, 'clinical_date_not_in_future'); END"
            ),
            (
                "CREATE TRIGGER surgery_date_not_in_future_ins BEFORE INSERT ON patients_surgery"
                " FOR EACH ROW WHEN NEW.date > date('now', '+1 day') BEGIN SELECT RAISE(ABORT,"
                " 'clinical_date_not_in_future'); END"
            ),
            (
                "CREATE TRIGGER surgery_date_not_in_future_upd BEFORE UPDATE ON patients_surgery"
                " FOR EACH ROW WHEN NEW.date > date('now', '+1 day') BEGIN SELECT RAISE(ABORT,"
                " 'clinical_date_not_in_future'); END"
            ),
        ],
        "drop": [
            "DROP TRIGGER IF EXISTS amputation_not_before_birth_ins",
            "DROP TRIGGER IF EXISTS amputation_not_before_birth_upd",
            "DROP TRIGGER IF EXISTS patient_birth_not_after_amputations_ins",
            "DROP TRIGGER IF EXISTS patient_birth_not_after_amputations_upd",
            "DROP TRIGGER IF EXISTS surgery_amputation_same_patient_ins",
            "DROP TRIGGER IF EXISTS surgery_amputation_same_patient_upd",
            "DROP TRIGGER IF EXISTS amputation_patient_matches_surgeries_ins",
            "DROP TRIGGER IF EXISTS amputation_patient_matches_surgeries_upd",
            "DROP TRIGGER IF EXISTS surgery_not_before_amputation_ins",
            "DROP TRIGGER IF EXISTS surgery_not_before_amputation_upd",
            "DROP TRIGGER IF EXISTS amputation_not_after_surgeries_ins",
            "DROP TRIGGER IF EXISTS amputation_not_after_surgeries_upd",
            "DROP TRIGGER IF EXISTS surgery_primary_tmr_at_amputation_ins",
            "DROP TRIGGER IF EXISTS surgery_primary_tmr_at_amputation_upd",
            "DROP TRIGGER IF EXISTS amputation_date_within_primary_tmr_window_ins",
            "DROP TRIGGER IF EXISTS amputation_date_within_primary_tmr_window_upd",
            "DROP TRIGGER IF EXISTS nerve_transfer_fits_limb_ins",
            "DROP TRIGGER IF EXISTS nerve_transfer_fits_limb_upd",
            "DROP TRIGGER IF EXISTS surgery_amputation_fits_nerve_transfers_ins",
            "DROP TRIGGER IF EXISTS surgery_amputation_fits_nerve_transfers_upd",
            "DROP TRIGGER IF EXISTS amputation_limb_fits_nerve_transfers_ins",
            "DROP TRIGGER IF EXISTS amputation_limb_fits_nerve_transfers_upd",
            "DROP TRIGGER IF EXISTS patient_birth_not_in_future_ins",
            "DROP TRIGGER IF EXISTS patient_birth_not_in_future_upd",
            "DROP TRIGGER IF EXISTS amputation_date_not_in_future_ins",
            "DROP TRIGGER IF EXISTS amputation_date_not_in_future_upd",
            "DROP TRIGGER IF EXISTS surgery_date_not_in_future_ins",
            "DROP TRIGGER IF EXISTS surgery_date_not_in_future_upd",
        ],
    },
    "postgresql": {
        "create": [
            """
        CREATE FUNCTION amputation_not_before_birth() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.date < (SELECT p.date_of_birth FROM patients_patient p WHERE p.id = NEW.patient_id) THEN
                RAISE EXCEPTION 'amputation_not_before_birth' USING ERRCODE = 'check_violation', CONSTRAINT = 'amputation_not_before_birth';
            END IF;
            RETURN NEW;
        END
        $$""",
            (
                "CREATE TRIGGER amputation_not_before_birth BEFORE INSERT OR UPDATE ON"
                " patients_amputation FOR EACH ROW EXECUTE FUNCTION amputation_not_before_birth()"
            ),
            """
        CREATE FUNCTION patient_birth_not_after_amputations() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM patients_amputation a WHERE a.patient_id = NEW.id AND a.date < NEW.date_of_birth) THEN
                RAISE EXCEPTION 'amputation_not_before_birth' USING ERRCODE = 'check_violation', CONSTRAINT = 'amputation_not_before_birth';
            END IF;
            RETURN NEW;
        END
        $$""",
            (
                "CREATE TRIGGER patient_birth_not_after_amputations BEFORE INSERT OR UPDATE OF"
                " date_of_birth ON patients_patient FOR EACH ROW EXECUTE FUNCTION"
                " patient_birth_not_after_amputations()"
            ),
            """
        CREATE FUNCTION surgery_amputation_same_patient() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.patient_id <> (SELECT a.patient_id FROM patients_amputation a WHERE a.id = NEW.amputation_id) THEN
                RAISE EXCEPTION 'surgery_amputation_same_patient' USING ERRCODE = 'check_violation', CONSTRAINT = 'surgery_amputation_same_patient';
            END IF;
            RETURN NEW;
        END
        $$""",
            (
                "CREATE TRIGGER surgery_amputation_same_patient BEFORE INSERT OR UPDATE ON"
                " patients_surgery FOR EACH ROW EXECUTE FUNCTION surgery_amputation_same_patient()"
            ),
            """
        CREATE FUNCTION amputation_patient_matches_surgeries() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM patients_surgery s WHERE s.amputation_id = NEW.id AND s.patient_id <> NEW.patient_id) THEN
                RAISE EXCEPTION 'surgery_amputation_same_patient' USING ERRCODE = 'check_violation', CONSTRAINT = 'surgery_amputation_same_patient';
            END IF;
            RETURN NEW;
        END
        $$""",
            (
                "CREATE TRIGGER amputation_patient_matches_surgeries BEFORE INSERT OR UPDATE OF"
                " patient_id ON patients_amputation FOR EACH ROW EXECUTE FUNCTION"
                " amputation_patient_matches_surgeries()"
            ),
            """
        CREATE FUNCTION surgery_not_before_amputation() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.date < (SELECT a.date FROM patients_amputation a WHERE a.id = NEW.amputation_id) THEN
                RAISE EXCEPTION 'surgery_not_before_amputation' USING ERRCODE = 'check_violation', CONSTRAINT = 'surgery_not_before_amputation';
            END IF;
            RETURN NEW;
        END
        $$""",
            (
                "CREATE TRIGGER surgery_not_before_amputation BEFORE INSERT OR UPDATE ON"
                " patients_surgery FOR EACH ROW EXECUTE FUNCTION surgery_not_before_amputation()"
            ),
            """
        CREATE FUNCTION amputation_not_after_surgeries() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM patients_surgery s WHERE s.amputation_id = NEW.id AND s.date < NEW.date) THEN
                RAISE EXCEPTION 'surgery_not_before_amputation' USING ERRCODE = 'check_violation', CONSTRAINT = 'surgery_not_before_amputation';
            END IF;
            RETURN NEW;
        END
        $$""",
            (
                "CREATE TRIGGER amputation_not_after_surgeries BEFORE INSERT OR UPDATE OF date ON"
                " patients_amputation FOR EACH ROW EXECUTE FUNCTION"
                " amputation_not_after_surgeries()"
            ),
            """
        CREATE FUNCTION surgery_primary_tmr_at_amputation() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.procedure = 'primary_tmr' AND NEW.date - (SELECT a.date FROM patients_amputation a WHERE a.id = NEW.amputation_id) > 14 THEN
                RAISE EXCEPTION 'surgery_primary_tmr_at_amputation' USING ERRCODE = 'check_violation', CONSTRAINT = 'surgery_primary_tmr_at_amputation';
            END IF;
            RETURN NEW;
        END
        $$""",
            (
                "CREATE TRIGGER surgery_primary_tmr_at_amputation BEFORE INSERT OR UPDATE ON"
                " patients_surgery FOR EACH ROW EXECUTE FUNCTION"
                " surgery_primary_tmr_at_amputation()"
            ),
            """
        CREATE FUNCTION amputation_date_within_primary_tmr_window() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM patients_surgery s WHERE s.amputation_id = NEW.id AND s.procedure = 'primary_tmr' AND s.date - NEW.date > 14) THEN
                RAISE EXCEPTION 'surgery_primary_tmr_at_amputation' USING ERRCODE = 'check_violation', CONSTRAINT = 'surgery_primary_tmr_at_amputation';
            END IF;
            RETURN NEW;
        END
        $$""",
            (
                "CREATE TRIGGER amputation_date_within_primary_tmr_window BEFORE INSERT OR UPDATE"
                " OF date ON patients_amputation FOR EACH ROW EXECUTE FUNCTION"
                " amputation_date_within_primary_tmr_window()"
            ),
            """
        CREATE FUNCTION nerve_transfer_fits_limb() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM patients_surgery s JOIN patients_amputation a ON a.id = s.amputation_id WHERE s.id = NEW.surgery_id AND NOT ((a.limb = 'upper' AND NEW.nerve IN ('median', 'ulnar', 'radial', 'superficial_radial', 'musculocutaneous', 'medial_antebrachial_cutaneous', 'medial_brachial_cutaneous', 'axillary', 'digital')) OR (a.limb = 'lower' AND NEW.nerve IN ('sciatic', 'tibial', 'common_peroneal', 'superficial_peroneal', 'deep_peroneal', 'sural', 'saphenous', 'femoral', 'posterior_femoral_cutaneous', 'lateral_femoral_cutaneous', 'obturator')))) THEN
                RAISE EXCEPTION 'nerve_transfer_fits_limb' USING ERRCODE = 'check_violation', CONSTRAINT = 'nerve_transfer_fits_limb';
            END IF;
            RETURN NEW;
        END
        $$""",
            (
                "CREATE TRIGGER nerve_transfer_fits_limb BEFORE INSERT OR UPDATE ON"
                " patients_nervetransfer FOR EACH ROW EXECUTE FUNCTION nerve_transfer_fits_limb()"
            ),
            """
        CREATE FUNCTION surgery_amputation_fits_nerve_transfers() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM patients_nervetransfer n JOIN patients_amputation a ON a.id = NEW.amputation_id WHERE n.surgery_id = NEW.id AND NOT ((a.limb = 'upper' AND n.nerve IN ('median', 'ulnar', 'radial', 'superficial_radial', 'musculocutaneous', 'medial_antebrachial_cutaneous', 'medial_brachial_cutaneous', 'axillary', 'digital')) OR (a.limb = 'lower' AND n.nerve IN ('sciatic', 'tibial', 'common_peroneal', 'superficial_peroneal', 'deep_peroneal', 'sural', 'saphenous', 'femoral', 'posterior_femoral_cutaneous', 'lateral_femoral_cutaneous', 'obturator')))) THEN
                RAISE EXCEPTION 'nerve_transfer_fits_limb' USING ERRCODE = 'check_violation', CONSTRAINT = 'nerve_transfer_fits_limb';
            END IF;
            RETURN NEW;
        END
        $$""",
            (
                "CREATE TRIGGER surgery_amputation_fits_nerve_transfers BEFORE INSERT OR UPDATE OF"
                " amputation_id ON patients_surgery FOR EACH ROW EXECUTE FUNCTION"
                " surgery_amputation_fits_nerve_transfers()"
            ),
            """
        CREATE FUNCTION amputation_limb_fits_nerve_transfers() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM patients_nervetransfer n JOIN patients_surgery s ON s.id = n.surgery_id WHERE s.amputation_id = NEW.id AND NOT ((NEW.limb = 'upper' AND n.nerve IN ('median', 'ulnar', 'radial', 'superficial_radial', 'musculocutaneous', 'medial_antebrachial_cutaneous', 'medial_brachial_cutaneous', 'axillary', 'digital')) OR (NEW.limb = 'lower' AND n.nerve IN ('sciatic', 'tibial', 'common_peroneal', 'superficial_peroneal', 'deep_peroneal', 'sural', 'saphenous', 'femoral', 'posterior_femoral_cutaneous', 'lateral_femoral_cutaneous', 'obturator')))) THEN
                RAISE EXCEPTION 'nerve_transfer_fits_limb' USING ERRCODE = 'check_violation', CONSTRAINT = 'nerve_transfer_fits_limb';
            END IF;
            RETURN NEW;
        END
        $$""",
            (
                "CREATE TRIGGER amputation_limb_fits_nerve_transfers BEFORE INSERT OR UPDATE OF"
                " limb ON patients_amputation FOR EACH ROW EXECUTE FUNCTION"
                " amputation_limb_fits_nerve_transfers()"
            ),
            """
        CREATE FUNCTION patient_birth_not_in_future() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.date_of_birth > CURRENT_DATE + 1 THEN
                RAISE EXCEPTION 'clinical_date_not_in_future' USING ERRCODE = 'check_violation', CONSTRAINT = 'clinical_date_not_in_future';
            END IF;
            RETURN NEW;
        END
        $$""",
            (
                "CREATE TRIGGER patient_birth_not_in_future BEFORE INSERT OR UPDATE ON"
                " patients_patient FOR EACH ROW EXECUTE FUNCTION patient_birth_not_in_future()"
            ),
            """
        CREATE FUNCTION amputation_date_not_in_future() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.date > CURRENT_DATE + 1 THEN
                RAISE EXCEPTION 'clinical_date_not_in_future' USING ERRCODE = 'check_violation', CONSTRAINT = 'clinical_date_not_in_future';
            END IF;
            RETURN NEW;
        END
        $$""",
            (
                "CREATE TRIGGER amputation_date_not_in_future BEFORE INSERT OR UPDATE ON"
                " patients_amputation FOR EACH ROW EXECUTE FUNCTION amputation_date_not_in_future()"
            ),
            """
        CREATE FUNCTION surgery_date_not_in_future() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.date > CURRENT_DATE + 1 THEN
                RAISE EXCEPTION 'clinical_date_not_in_future' USING ERRCODE = 'check_violation', CONSTRAINT = 'clinical_date_not_in_future';
            END IF;
            RETURN NEW;
        END
        $$""",
            (
                "CREATE TRIGGER surgery_date_not_in_future BEFORE INSERT OR UPDATE ON"
                " patients_surgery FOR EACH ROW EXECUTE FUNCTION surgery_date_not_in_future()"
            ),
        ],
        "drop": [
            "DROP TRIGGER IF EXISTS amputation_not_before_birth ON patients_amputation",
            "DROP FUNCTION IF EXISTS amputation_not_before_birth()",
            "DROP TRIGGER IF EXISTS patient_birth_not_after_amputations ON patients_patient",
            "DROP FUNCTION IF EXISTS patient_birth_not_after_amputations()",
            "DROP TRIGGER IF EXISTS surgery_amputation_same_patient ON patients_surgery",
            "DROP FUNCTION IF EXISTS surgery_amputation_same_patient()",
            "DROP TRIGGER IF EXISTS amputation_patient_matches_surgeries ON patients_amputation",
            "DROP FUNCTION IF EXISTS amputation_patient_matches_surgeries()",
            "DROP TRIGGER IF EXISTS surgery_not_before_amputation ON patients_surgery",
            "DROP FUNCTION IF EXISTS surgery_not_before_amputation()",
            "DROP TRIGGER IF EXISTS amputation_not_after_surgeries ON patients_amputation",
            "DROP FUNCTION IF EXISTS amputation_not_after_surgeries()",
            "DROP TRIGGER IF EXISTS surgery_primary_tmr_at_amputation ON patients_surgery",
            "DROP FUNCTION IF EXISTS surgery_primary_tmr_at_amputation()",
            (
                "DROP TRIGGER IF EXISTS amputation_date_within_primary_tmr_window ON"
                " patients_amputation"
            ),
            "DROP FUNCTION IF EXISTS amputation_date_within_primary_tmr_window()",
            "DROP TRIGGER IF EXISTS nerve_transfer_fits_limb ON patients_nervetransfer",
            "DROP FUNCTION IF EXISTS nerve_transfer_fits_limb()",
            "DROP TRIGGER IF EXISTS surgery_amputation_fits_nerve_transfers ON patients_surgery",
            "DROP FUNCTION IF EXISTS surgery_amputation_fits_nerve_transfers()",
            "DROP TRIGGER IF EXISTS amputation_limb_fits_nerve_transfers ON patients_amputation",
            "DROP FUNCTION IF EXISTS amputation_limb_fits_nerve_transfers()",
            "DROP TRIGGER IF EXISTS patient_birth_not_in_future ON patients_patient",
            "DROP FUNCTION IF EXISTS patient_birth_not_in_future()",
            "DROP TRIGGER IF EXISTS amputation_date_not_in_future ON patients_amputation",
            "DROP FUNCTION IF EXISTS amputation_date_not_in_future()",
            "DROP TRIGGER IF EXISTS surgery_date_not_in_future ON patients_surgery",
            "DROP FUNCTION IF EXISTS surgery_date_not_in_future()",
        ],
    },
}


def run(sql, step):
    def operation(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in sql:
            raise NotImplementedError(
                f"The clinical rule triggers exist for SQLite and PostgreSQL only, not {vendor}."
            )
        for statement in sql[vendor][step]:
            schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0003_clinical_record"),
    ]

    operations = [
        migrations.RunPython(run(CLINICAL_RULES_SQL, "create"), run(CLINICAL_RULES_SQL, "drop")),
    ]
