-- Program names and dates for the dashboards' titles and the closed-program note. HR pages
-- name the program (its own staff read them); the research snapshot does not.
SELECT program_id, name, start_date, end_date
FROM core.programs
ORDER BY program_id
