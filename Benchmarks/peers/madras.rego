# The Madras severity decision (Policies/madras.yaml, clauses 6.5.2, 6.6.3, 6.7, 9.4.4)
# written in Rego for the peer comparison. Input: people (number of data subjects),
# factors (sensitivity weights, each -1, 0 or +1), near_miss.
package madras

import rego.v1

# The baseline scale bands (assumed in the policy: Form A is not in the document).
baseline := 0 if input.people <= 10

baseline := 1 if {
	input.people > 10
	input.people <= 100
}

baseline := 2 if {
	input.people > 100
	input.people <= 1000
}

baseline := 3 if {
	input.people > 1000
	input.people <= 10000
}

baseline := 4 if input.people > 10000

score := baseline + sum(input.factors)

category := 0 if input.near_miss

category := 2 if {
	not input.near_miss
	score >= 3
}

category := 1 if {
	not input.near_miss
	score < 3
}

reportable := category == 2

decision := {"score": score, "category": category, "reportable": reportable}
