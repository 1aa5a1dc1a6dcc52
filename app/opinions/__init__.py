"""Opinion requests (xin ý kiến): a draft goes to several people in parallel, inside and outside the agency.

Reviewers of the requester's agency answer in the requester's ``opinion_request`` workflow (one
multi-instance step per reviewer). Reviewers of other agencies answer in their own agency: a linked
copy of the request is created there with its own small ``opinion_answer`` workflow, and the answer
is copied back to the requester's request when it is given.
"""
