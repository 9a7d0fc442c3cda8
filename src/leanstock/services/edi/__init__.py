"""EDI with suppliers that trade by it: purchase orders out (850), acknowledgements (855), ship
notices (856) and invoices (810) in, and a functional acknowledgement (997) for every
interchange received.

Receiving an interchange (`receive`):

1. It is read and its envelopes checked (`adapters/edi/x12.py`): control numbers of ISA/IEA,
   GS/GE and ST/SE agree, and the counts of IEA01, GE01 and SE01 are right.
2. Its sender (ISA05/ISA06) must be a trading partner (`set_partner`), and the interchange
   must be addressed to us (ISA08, GS03); the partner's lock is held until the end, so one
   partner's interchanges are applied one at a time.
3. An interchange already applied (same partner and ISA13) is acknowledged again with the
   acknowledgement it got, and not applied again; one with the same number but other content
   is refused (TA1 025).
4. Each transaction set is a document applied whole or not at all, through the same use cases
   the API calls (acknowledge, ship notice, invoice). A document that cannot be applied (a
   malformed segment, an unknown order, an order in a state that refuses it) changes nothing
   and is rejected in the 997 (AK5 R, with AK3/AK4 where the fault is), with the reason in
   words in the interchange log. A fault in an envelope rejects everything it encloses.
5. The 997 is returned, and kept with the interchange in the log.
"""

from leanstock.services.edi.inbound import (
    Inbound as Inbound,
)
from leanstock.services.edi.inbound import (
    interchange as interchange,
)
from leanstock.services.edi.inbound import (
    interchanges as interchanges,
)
from leanstock.services.edi.inbound import (
    order_numbers as order_numbers,
)
from leanstock.services.edi.inbound import (
    receive as receive,
)
from leanstock.services.edi.outbound import Outbound as Outbound
from leanstock.services.edi.outbound import outbound as outbound
from leanstock.services.edi.partners import (
    our_ids as our_ids,
)
from leanstock.services.edi.partners import (
    partner_of as partner_of,
)
from leanstock.services.edi.partners import (
    partners as partners,
)
from leanstock.services.edi.partners import (
    remove_partner as remove_partner,
)
from leanstock.services.edi.partners import (
    set_our_ids as set_our_ids,
)
from leanstock.services.edi.partners import (
    set_partner as set_partner,
)
